using Dot.Api.Access;
using Dot.Api.Connections;
using Dot.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dot.Api.Catalog;

internal static class CatalogApi
{
    public static RouteGroupBuilder MapCatalog(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/connections/{type}/{id}/catalog")
            .WithTags("Catalog")
            .RequireRole(Role.Modeler);

        // Admins and modelers (those who model on the metadata); header or cookie credentials only.
        group.MapGet("/", GetAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(Scopes.Connections)
            .WithName("GetCatalog")
            .WithSummary("The catalogue a connection's last successful sync read")
            .WithDescription("Schemas, their tables and views (kind: table, view, materialized_view, foreign_table, or source for a dbt source), "
                + "their columns (data_type, nullable, position) and descriptions, sorted by name (columns by position). "
                + "Replaced whole by each successful sync: a reader sees the previous catalogue or the new one, never a mix. "
                + "A connection never synced answers 200 with sync_id null and no schemas; an unknown connection 404.");

        return group;
    }

    private static async Task<Results<Ok<CatalogDto>, NotFoundProblem>> GetAsync(
        string type, string id, ConnectionService connections, CatalogStore catalogs, CancellationToken ct)
    {
        if (!ConnectionTypes.IsKnown(type) || !ConnectionTypes.IsSlug(id) || !await connections.ExistsAsync(type, id, ct))
        {
            return Problems.NotFound("No connection with that type and id.");
        }

        var catalog = await catalogs.ReadAsync(type, id, ct);
        return TypedResults.Ok(catalog ?? new CatalogDto(type, id, null, null, []));
    }
}

using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Infrastructure;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json;

namespace Dot.Api.Connections;

internal static class ConnectionsApi
{
    public static RouteGroupBuilder MapConnections(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/connections")
            .WithTags("Connections")
            .RequireRole(Role.Admin);

        group.MapGet("/", ListAsync)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .RequireScope(Scopes.Connections)
            .WithName("ListConnections")
            .WithSummary("List connections")
            .WithDescription("Ordered by type then id, paged with limit (1–200, default 50) and the next_cursor of the previous page; "
                + "type filters to one connection type. Secrets are never returned: only their names, in secret_names.");

        group.MapGet("/{type}/{id}", GetAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(Scopes.Connections)
            .WithName("GetConnection")
            .WithSummary("A connection")
            .WithDescription("Its settings and the names of its secrets (never their values).");

        group.MapPost("/", CreateAsync)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireScope(Scopes.Connections)
            .WithName("CreateConnection")
            .WithExampleBody(new CreateConnectionRequest("postgres", "warehouse", "Analytics warehouse", JsonSerializer.SerializeToElement(new { host = "db.internal.example.com", port = 5432, database = "analytics", user = "dot_reader", ssl_mode = "require" }), JsonSerializer.SerializeToElement(new { password = "the-reader-password" })))
            .WithSummary("Create a connection")
            .WithDescription("type (postgres, redshift, snowflake, mssql, bigquery, databricks, looker, dbt) and id (a slug: 1–64 of a–z, 0–9, '-', '_') "
                + "are required; name defaults to the id. settings: an object of strings, numbers and booleans, stored as given. "
                + "secrets: an object of strings, stored encrypted and never returned. 409 when the type already has a connection with that id.");

        group.MapDelete("/{type}/{id}", DeleteAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(Scopes.Connections)
            .WithName("DeleteConnection")
            .WithSummary("Delete a connection")
            .WithDescription("Its queued or running sync runs end as failed (\"the connection was deleted\"); finished runs stay readable.");

        return group;
    }

    private static async Task<Results<Ok<Page<ConnectionDto>>, InvalidProblem>> ListAsync(
        [AsParameters] PageRequest paging, string? type, ConnectionService connections, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var (take, after) = paging.Read(ConnectionService.PageKey, errors);

        if (type is not null && !ConnectionTypes.IsKnown(type))
        {
            errors.Add("type", $"type must be one of {ConnectionTypes.Listed}.");
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var rows = await connections.ListAsync(type, take + 1, after, ct);
        return TypedResults.Ok(Page.From(rows, take, c => c.ToResponse(), ConnectionService.PageKey, c => (c.Type, c.Id)));
    }

    private static async Task<Results<Ok<ConnectionDto>, NotFoundProblem>> GetAsync(
        string type, string id, ConnectionService connections, CancellationToken ct)
    {
        var connection = await connections.FindAsync(type, id, ct);
        return connection is null ? Problems.NotFound("No connection with that type and id.") : TypedResults.Ok(connection.ToResponse());
    }

    private static async Task<Results<Created<ConnectionDto>, InvalidProblem, ConflictProblem>> CreateAsync(
        CreateConnectionRequest request, ClaimsPrincipal caller, ConnectionService connections, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var draft = connections.Check(request.Type, request.Id, request.Name, request.Settings, request.Secrets, errors);
        if (draft is null)
        {
            return errors.ToProblem();
        }

        var connection = await connections.CreateAsync(draft, caller.UserId(), ct);
        return connection is null
            ? Problems.Conflict($"A {draft.Type} connection with id '{draft.Id}' already exists.")
            : TypedResults.Created($"/api/connections/{connection.Type}/{connection.Id}", connection.ToResponse());
    }

    private static async Task<Results<NoContent, NotFoundProblem>> DeleteAsync(
        string type, string id, ConnectionService connections, CancellationToken ct)
        => await connections.DeleteAsync(type, id, ct)
            ? TypedResults.NoContent()
            : Problems.NotFound("No connection with that type and id.");
}

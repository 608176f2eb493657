using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Connectors;
using Dot.Api.Infrastructure;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dot.Api.Assets;

internal static class AssetsApi
{
    public static RouteGroupBuilder MapAssets(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api")
            .WithTags("External assets")
            .RequireRole(Role.Modeler);

        group.MapPost("/import_and_overwrite_external_asset", ImportAsync)
            .AllowApiTokenInQuery()
            .RequireScope(Scopes.Assets)
            .WithName("ImportExternalAsset")
            .WithExampleBody(new ImportExternalAssetRequest(new ExternalAssetInput("looker/dashboards/42", "dashboard", "Finance", "Revenue", "Monthly revenue by region", "https://looker.example.com/dashboards/42", true, 17, new DateTime(2026, 11, 30, 9, 15, 0, DateTimeKind.Utc), null)))
            .WithSummary("Insert or overwrite an external asset")
            .WithDescription("Inserts the asset with external_asset.id, or overwrites the stored one: every field is replaced, "
                + "and a field left out becomes null (active: true, view_count: 0). id and name are required; url must be an "
                + "absolute http(s) URL; view_count must not be negative. Answers status created or updated. "
                + "Also accepts ?user_id=…&api_token=… for webhooks.");

        group.MapGet("/external_assets", ListAsync)
            .RequireScope(Scopes.Assets)
            .WithName("ListExternalAssets")
            .WithSummary("List external assets")
            .WithDescription("Ordered by id, filtered by subtype, folder and active (exact matches), paged with limit "
                + "(1–200, default 50) and the next_cursor of the previous page.");

        // A catch-all, so that ids with slashes ("looker/dashboards/12") can be named as they are.
        group.MapDelete("/external_assets/{*id}", DeleteAsync)
            .RequireScope(Scopes.Assets)
            .WithName("DeleteExternalAsset")
            .WithSummary("Delete an external asset");

        return group;
    }

    private static async Task<Results<Ok<ImportExternalAssetResponse>, InvalidProblem>> ImportAsync(
        ImportExternalAssetRequest request, AssetService assets, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var asset = ExternalAssetImport.Validate(request.ExternalAsset, errors);
        if (asset is null)
        {
            return errors.ToProblem();
        }

        var (stored, created) = await assets.ImportAsync(asset, ct);
        return TypedResults.Ok(new ImportExternalAssetResponse(created ? "created" : "updated", stored.ToDto()));
    }

    private static async Task<Results<Ok<Page<ExternalAssetDto>>, InvalidProblem>> ListAsync(
        string? subtype, string? folder, string? active, [AsParameters] PageRequest paging, AssetService assets, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var (take, after) = paging.Read(Page.Text, errors);
        bool? isActive = null;
        if (active is not null)
        {
            if (bool.TryParse(active, out var parsed))
            {
                isActive = parsed;
            }
            else
            {
                errors.Add("active", "active must be true or false.");
            }
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var rows = await assets.ListAsync(subtype, folder, isActive, take + 1, after?.Value, ct);
        return TypedResults.Ok(Page.From(rows, take, a => a.ToDto(), Page.Text, a => new TextKey(a.Id)));
    }

    private static async Task<Results<NoContent, NotFoundProblem>> DeleteAsync(string id, AssetService assets, CancellationToken ct)
        => await assets.DeleteAsync(id, ct)
            ? TypedResults.NoContent()
            : Problems.NotFound("No external asset with that id.");
}

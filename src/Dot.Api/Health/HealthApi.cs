using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Health;

public sealed record HealthDto(string Status);

internal static class HealthApi
{
    public static RouteGroupBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/healthz").WithTags("Health").AllowAnonymous();

        group.MapGet("/", ReadyAsync)
            .WithName("Ready")
            .WithSummary("Readiness: the server and its database answer");

        group.MapGet("/live", () => TypedResults.Ok(new HealthDto("live")))
            .WithName("Live")
            .WithSummary("Liveness: the process runs (no database work)");

        return group;
    }

    private static async Task<Results<Ok<HealthDto>, UnavailableProblem>> ReadyAsync(DotDbContext db, CancellationToken ct)
    {
        try
        {
            await db.Users.AsNoTracking().AnyAsync(ct);
            return TypedResults.Ok(new HealthDto("ready"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Problems.Unavailable("The database does not answer.");
        }
    }
}

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
        var group = routes.MapGroup("/healthz").WithTags("Health");

        group.MapGet("/", ReadyAsync)
            .WithName("Ready")
            .WithSummary("Readiness: the server and its database answer");

        group.MapGet("/live", () => TypedResults.Ok(new HealthDto("live")))
            .WithName("Live")
            .WithSummary("Liveness: the process runs (no database work)");

        return group;
    }

    /// <summary>
    /// A database that takes longer than this to answer counts as down: a load balancer's check should learn it
    /// before its own timeout, not after the store's retries (EF Core's execution strategy) have run out.
    /// </summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(2);

    private static async Task<Results<Ok<HealthDto>, UnavailableProblem>> ReadyAsync(DotDbContext db, HttpContext context, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ReadyTimeout);
        try
        {
            await db.Users.AsNoTracking().AnyAsync(timeout.Token);
            return TypedResults.Ok(new HealthDto("ready"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            context.Response.Headers.RetryAfter = DatabaseUnavailable.RetryAfterSeconds;
            return Problems.Unavailable("The database does not answer.");
        }
    }
}

using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Dot.Api.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.BenchHost;

/// <summary>The benchmark's routes, mapped through the product's <see cref="IEndpointContributor"/> hook.</summary>
internal sealed class BenchEndpoints(IConfiguration configuration) : IEndpointContributor
{
    // The baseline's answer: the same shape and about the same size as /api/auth/me's.
    private static readonly Guid AnonymousId = Guid.Parse("0199a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b");
    private static readonly Guid AnonymousTokenId = Guid.Parse("0199a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1c");
    private static readonly DateTime AnonymousExpiry = new(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public void Map(IEndpointRouteBuilder routes)
    {
        var bench = routes.MapGroup("/bench").WithTags("Benchmark").ExcludeFromDescription();

        // Baseline: anonymous, no database, a JSON body like /api/auth/me's.
        bench.MapGet("/anonymous", () => new AuthMe(AnonymousId, "bench@example.com", "Bench", Roles.Admin,
                new AuthInfoDto("header", AnonymousTokenId, "bench", AnonymousExpiry, Scopes.Unrestricted)));

        // A URL-token route that does no work of its own: it answers like /api/auth/me.
        bench.MapGet("/query/me", (ClaimsPrincipal user) => AuthApi.Me(user))
            .RequireRole(Role.User)
            .AllowApiTokenInQuery();

        // The comparator: the same answer from a JwtBearer-authenticated principal (the filter authenticates as a policy
        // naming the scheme would: the server's authorization judges its own metadata only).
        bench.MapGet("/jwt/me", (HttpContext context) => BenchJwt.Me(context.User))
            .AddEndpointFilter(BenchJwt.RequireAsync);

        bench.MapGet("/jwt/issue", IssueJwtAsync);

        bench.MapGet("/stats", Stats);

        // Only with BENCH_ALLOCATION_SAMPLING=1: the types allocated since the last call (see docs/benchmark.md).
        bench.MapGet("/allocations", (int? top) => AllocationSampler.Instance is { } sampler
                ? Results.Ok(sampler.TakeAndReset(top ?? 25))
                : Results.NotFound("start the host with BENCH_ALLOCATION_SAMPLING=1"));
    }

    /// <summary>A JWT for the user with this email (benchmark only: anyone on loopback may ask).</summary>
    private static async Task<Results<ContentHttpResult, NotFound>> IssueJwtAsync(string email, DotDbContext db, CancellationToken ct)
    {
        var normalized = User.Normalize(email);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        return user is null ? TypedResults.NotFound() : TypedResults.Text(BenchJwt.Issue(user, TimeSpan.FromHours(2)));
    }

    /// <summary>What the script reads between measurements: allocations, collections, the GC's memory, and the settings in force.</summary>
    private BenchStats Stats() => new(
        Environment.ProcessId,
        GC.GetTotalAllocatedBytes(precise: true),
        GC.CollectionCount(0),
        GC.CollectionCount(1),
        GC.CollectionCount(2),
        GC.GetGCMemoryInfo().TotalCommittedBytes,
        (long)GC.GetTotalPauseDuration().TotalMicroseconds,
        System.Runtime.GCSettings.IsServerGC,
        configuration.GetValue("Dot:Auth:ThrottleEnabled", true),
        configuration["Logging:LogLevel:Default"] ?? "Information");
}

internal sealed record BenchStats(
    int Pid,
    long AllocatedBytes,
    int Gen0Collections,
    int Gen1Collections,
    int Gen2Collections,
    long GcCommittedBytes,
    long GcPauseMicroseconds,
    bool ServerGc,
    bool ThrottleEnabled,
    string LogLevel);

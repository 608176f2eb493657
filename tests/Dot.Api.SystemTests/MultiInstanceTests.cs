using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Data.Postgres;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xunit.Abstractions;

namespace Dot.Api.Tests;

/// <summary>
/// API.md §7 with several instances: three real server processes (<see cref="ServerFleet"/>) on one PostgreSQL
/// database, as behind a load balancer. PostgreSQL by nature, so they run whatever <c>DOT_TEST_STORE</c> says, on the
/// shared throw-away cluster (the restart test on a cluster of its own); without PostgreSQL they are skipped, except on
/// CI (<c>CI=true</c>), where that is a failure. In the <see cref="TimedTests"/> collection: the latencies they bound
/// are the product's, not the parallel suite's load.
/// </summary>
[Collection(TimedTests.Name)]
[Trait("Store", "postgres-always")]
public sealed class MultiInstanceTests(ITestOutputHelper output)
{
    private const string ConnectionType = "dbt";

    private static async Task<string> MigratedDatabaseAsync()
    {
        (await SharedPostgres.GetAsync()).Require();
        return await SharedPostgres.ConnectionStringAsync(await SharedPostgres.CreateDatabaseAsync());
    }

    [SkippableFact]
    public async Task ThreeInstancesStartingAtOnceOnAnEmptyDatabaseMigrateItOnce()
    {
        var cluster = await SharedPostgres.GetAsync();
        cluster.Require();
        var connectionString = await SharedPostgres.ConnectionStringAsync(await cluster.CreateDatabaseAsync());

        await using var fleet = await ServerFleet.StartAsync(connectionString, 3, output);

        foreach (var server in fleet.Servers)
        {
            using var client = server.Client();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        }

        List<string> expected;
        await using (var db = new PostgresDotDbContext(new DbContextOptionsBuilder<PostgresDotDbContext>().UseNpgsql(connectionString).Options))
        {
            expected = db.Database.GetMigrations().ToList();
        }

        Assert.NotEmpty(expected);
        var applied = new List<string>();
        await using (var connection = new NpgsqlConnection(cluster.ConnectionString(new NpgsqlConnectionStringBuilder(connectionString).Database!)))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""SELECT "MigrationId" FROM "__EFMigrationsHistory" """, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                applied.Add(reader.GetString(0));
            }
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), applied.Order(StringComparer.Ordinal)); // each exactly once
    }

    [SkippableFact]
    public async Task TokensRevocationsAndDemotionsMadeOnOneInstanceHoldOnEveryOther()
    {
        await using var fleet = await ServerFleet.StartAsync(await MigratedDatabaseAsync(), 3, output);
        var adminToken = await fleet.CreateAdminAsync();
        using var adminA = fleet[0].Client(adminToken);
        using var adminC = fleet[2].Client(adminToken);

        // Made on A through the API, it works on B and C.
        var userId = await ServerFleet.CreateUserAsync(adminA, "carol@example.com", "user");
        var (tokenId, token) = await ServerFleet.CreateTokenAsync(adminA, userId, "carol-ci");
        using var carolB = fleet[1].Client(token);
        using var carolC = fleet[2].Client(token);
        Assert.Equal(HttpStatusCode.OK, (await carolB.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await carolC.GetAsync("/api/auth/me")).StatusCode); // now cached on B and C

        // Revoked on A, refused on B and C within a second.
        Assert.Equal(HttpStatusCode.NoContent, (await adminA.DeleteAsync($"/api/tokens/{tokenId}")).StatusCode);
        var revoked = Stopwatch.StartNew();
        var latencies = await Task.WhenAll(
            UntilAsync(carolB, "/api/auth/me", HttpStatusCode.Unauthorized, revoked),
            UntilAsync(carolC, "/api/auth/me", HttpStatusCode.Unauthorized, revoked));
        output.WriteLine($"revocation on A refused on B after {latencies[0].TotalMilliseconds:F0} ms, on C after {latencies[1].TotalMilliseconds:F0} ms");

        // An admin demoted on C: A refuses them the admin route within a second.
        var opsId = await ServerFleet.CreateUserAsync(adminA, "ops@example.com", "admin");
        var (_, opsToken) = await ServerFleet.CreateTokenAsync(adminA, opsId, "ops-ci");
        using var opsA = fleet[0].Client(opsToken);
        Assert.Equal(HttpStatusCode.OK, (await opsA.GetAsync("/api/users")).StatusCode); // cached on A as an admin
        var demote = await adminC.PatchAsJsonAsync($"/api/users/{opsId}", new { role = "user" });
        Assert.Equal(HttpStatusCode.OK, demote.StatusCode);
        var demoted = Stopwatch.StartNew();
        var demotion = await UntilAsync(opsA, "/api/users", HttpStatusCode.Forbidden, demoted);
        output.WriteLine($"demotion on C refused on A after {demotion.TotalMilliseconds:F0} ms");

        Assert.All(latencies, l => Assert.True(l < TimeSpan.FromSeconds(1), $"revocation took {l.TotalMilliseconds:F0} ms to reach another instance"));
        Assert.True(demotion < TimeSpan.FromSeconds(1), $"demotion took {demotion.TotalMilliseconds:F0} ms to reach another instance");
    }

    [SkippableFact]
    public async Task FiftyTriggersSpreadOverThreeInstancesMakeOneRun()
    {
        await using var manifest = await new ManifestServer(ManifestFacts.FixturePath("jaffle_shop-v9.manifest.json"), null)
        {
            Delay = TimeSpan.FromSeconds(5), // the run is still going while the triggers arrive
        }.StartAsync();
        await using var fleet = await ServerFleet.StartAsync(await MigratedDatabaseAsync(), 3, output);
        var adminToken = await fleet.CreateAdminAsync();
        var admins = fleet.Servers.Select(s => s.Client(adminToken)).ToList();
        await admins[0].CreateConnectionAsync(ConnectionType, "shop", new { manifest_url = manifest.ManifestUrl.ToString() });

        var ids = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => admins[i % 3].TriggerSyncAsync(ConnectionType, "shop")));

        var syncId = Assert.Single(ids.Distinct());
        var run = await admins[1].WaitForRunAsync(syncId);
        Assert.Equal("succeeded", run.Str("status"));
        Assert.Equal(1L, await fleet.ScalarAsync<long>("""SELECT count(*) FROM "sync_runs" """));
        Assert.Single(manifest.Paths, p => p == ManifestServer.ArtifactPath);
        admins.ForEach(a => a.Dispose());
    }

    [SkippableFact]
    public async Task RunOfAnInstanceKilledMidwayIsFinishedByAnotherAfterTheLease()
    {
        await using var manifest = await new ManifestServer(ManifestFacts.FixturePath("jaffle_shop-v9.manifest.json"), null)
        {
            Delay = TimeSpan.FromSeconds(3),
        }.StartAsync();
        await using var fleet = await ServerFleet.StartAsync(await MigratedDatabaseAsync(), 3, output, new Dictionary<string, string>
        {
            ["Dot__Sync__PollSeconds"] = "1",
            ["Dot__Sync__LeaseSeconds"] = "4",
        });
        var adminToken = await fleet.CreateAdminAsync();
        using var adminA = fleet[0].Client(adminToken);
        await adminA.CreateConnectionAsync(ConnectionType, "shop", new { manifest_url = manifest.ManifestUrl.ToString() });

        var syncId = await adminA.TriggerSyncAsync(ConnectionType, "shop");
        var runner = await Eventually.ValueAsync(() => ClaimedByAsync(fleet, syncId), claimed => claimed is not null && !manifest.Paths.IsEmpty,
            TimeSpan.FromSeconds(30), _ => "the run was never claimed, or its manifest never asked for", every: TimeSpan.FromMilliseconds(20));

        var killed = Enumerable.Range(0, 3).Single(i => ServerFleet.InstanceName(i) == runner);
        fleet[killed].Kill(); // SIGKILL in the middle of the manifest download
        var sinceKill = Stopwatch.StartNew();
        using var survivor = fleet[(killed + 1) % 3].Client(adminToken);
        var run = await survivor.WaitForRunAsync(syncId, seconds: 90);
        output.WriteLine($"run claimed by {runner}, killed; finished by {await ClaimedByAsync(fleet, syncId)} {sinceKill.Elapsed.TotalSeconds:F1} s after the kill (lease 4 s)");

        Assert.Equal("succeeded", run.Str("status"));
        Assert.NotEqual(runner, await ClaimedByAsync(fleet, syncId));
        Assert.True(manifest.Paths.Count(p => p == ManifestServer.ArtifactPath) >= 2);
        Assert.Equal(1L, await fleet.ScalarAsync<long>("""SELECT count(*) FROM "sync_runs" """));
    }

    [SkippableFact]
    public async Task FailedGuessesSpreadOverThreeInstancesShareOneBudget()
    {
        const int budget = 10;
        await using var fleet = await ServerFleet.StartAsync(await MigratedDatabaseAsync(), 3, output, new Dictionary<string, string>
        {
            ["Dot__Auth__MaxFailuresPerMinute"] = budget.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var adminToken = await fleet.CreateAdminAsync();
        var guessers = fleet.Servers.Select(s => s.Client()).ToList();

        // 60 well-formed, unknown tokens at 10 a second, round robin: three budgets would let 30 through as 401s;
        // one budget lets 10, and a second's worth (10) of slack while the instances learn of each other's failures.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 60; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me");
            request.Headers.Add("API-KEY", TokenFormat.Generate());
            var response = await guessers[i % 3].SendAsync(request);
            statuses.Add(response.StatusCode);
            await Task.Delay(100);
        }

        var refused = statuses.Count(s => s == HttpStatusCode.Unauthorized);
        output.WriteLine($"401s before the shared budget ran out: {refused} (budget {budget}); statuses: {string.Join(' ', statuses.Select(s => (int)s))}");
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, $"unexpected {(int)s}"));
        Assert.True(refused <= 2 * budget, $"{refused} guesses were judged; one shared budget of {budget} (plus a second's slack) allows {2 * budget}");

        // Throttled on every instance: even the right token answers 429, with Retry-After.
        foreach (var server in fleet.Servers)
        {
            using var admin = server.Client(adminToken);
            var response = await admin.GetAsync("/api/auth/me");
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
        }

        guessers.ForEach(g => g.Dispose());
    }

    /// <summary>
    /// PostgreSQL stopped (fast shutdown) and started again under traffic on three instances: while it is down
    /// <c>/healthz</c> and every API request that needs it answer 503 (never 500, and never a 401 as if the token were
    /// bad); afterwards every instance recovers by itself, and every token answered 201 exists.
    /// </summary>
    [SkippableFact]
    public async Task InstancesRideOutAPostgresRestartWithoutA500OrALostWrite()
    {
        var cluster = new PostgresCluster();
        await cluster.InitializeAsync();
        try
        {
            cluster.Require();
            var database = await cluster.CreateDatabaseAsync();
            var connectionString = new NpgsqlConnectionStringBuilder(cluster.ConnectionString(database)) { Pooling = true }.ConnectionString;
            await using var fleet = await ServerFleet.StartAsync(connectionString, 3, output);
            var adminToken = await fleet.CreateAdminAsync();
            var admins = fleet.Servers.Select(s => s.Client(adminToken)).ToList();
            var userId = await ServerFleet.CreateUserAsync(admins[0], "dana@example.com", "user");
            var (_, unusedToken) = await ServerFleet.CreateTokenAsync(admins[0], userId, "never-used-yet"); // in no instance's cache

            var acknowledged = new ConcurrentBag<Guid>();
            var unexpected = new ConcurrentQueue<string>();
            var unavailable = 0;
            var createdAfterRestart = new int[3];
            var restarted = false;
            using var stop = new CancellationTokenSource();
            var traffic = Enumerable.Range(0, 3).Select(i => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var response = await admins[i].PostAsJsonAsync("/api/tokens", new { name = $"w{i}-{n}" });
                    var body = await response.Content.ReadAsStringAsync();
                    switch (response.StatusCode)
                    {
                        case HttpStatusCode.Created:
                            acknowledged.Add(System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid());
                            if (Volatile.Read(ref restarted))
                            {
                                Interlocked.Increment(ref createdAfterRestart[i]);
                            }

                            break;
                        case HttpStatusCode.ServiceUnavailable:
                            Interlocked.Increment(ref unavailable);
                            if (response.Headers.RetryAfter is null || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                            {
                                unexpected.Enqueue($"{ServerFleet.InstanceName(i)}: 503 without Retry-After or problem details: {body}");
                            }

                            break;
                        default:
                            unexpected.Enqueue($"{ServerFleet.InstanceName(i)}: {(int)response.StatusCode} {body}");
                            break;
                    }

                    await Task.Delay(50);
                }
            })).ToList();

            await Task.Delay(TimeSpan.FromSeconds(2));
            var beforeStop = acknowledged.Count;
            await cluster.StopServerAsync();
            var down = Stopwatch.StartNew();
            await Task.WhenAll(fleet.Servers.Select(s => UntilHealthAsync(s, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30))));
            output.WriteLine($"every /healthz answered 503 within {down.Elapsed.TotalMilliseconds:F0} ms of the stop");

            // The authentication's miss path needs the database too: 503, not "unknown token".
            using (var unused = fleet[1].Client(unusedToken))
            {
                var response = await unused.GetAsync("/api/auth/me");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.NotNull(response.Headers.RetryAfter);
            }

            using (var guess = fleet[2].Client(TokenFormat.Generate()))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, (await guess.GetAsync("/api/auth/me")).StatusCode);
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            await cluster.StartServerAsync();
            Volatile.Write(ref restarted, true);
            var up = Stopwatch.StartNew();
            await Task.WhenAll(fleet.Servers.Select(s => UntilHealthAsync(s, HttpStatusCode.OK, TimeSpan.FromSeconds(60))));
            output.WriteLine($"every /healthz answered 200 within {up.Elapsed.TotalMilliseconds:F0} ms of the start; database down {down.Elapsed.TotalSeconds:F1} s");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (createdAfterRestart.Any(c => c == 0) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            await stop.CancelAsync();
            await Task.WhenAll(traffic);
            output.WriteLine($"{acknowledged.Count} tokens acknowledged ({beforeStop} before the stop), {unavailable} answers 503, created after the restart per instance: {string.Join(", ", createdAfterRestart)}");

            Assert.Empty(unexpected);
            Assert.True(unavailable > 0, "no request was answered 503 while the database was down");
            Assert.All(createdAfterRestart, c => Assert.True(c > 0, "an instance did not recover by itself"));
            using (var unused = fleet[1].Client(unusedToken))
            {
                Assert.Equal(HttpStatusCode.OK, (await unused.GetAsync("/api/auth/me")).StatusCode);
            }

            var ids = acknowledged.ToArray();
            Assert.Equal((long)ids.Length, await fleet.ScalarAsync<long>("""SELECT count(*) FROM "api_tokens" WHERE "Id" = ANY(@ids)""", ("ids", ids)));
            admins.ForEach(a => a.Dispose());
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>Polls <paramref name="path"/> until it answers <paramref name="status"/>; the time since <paramref name="since"/> started.</summary>
    private static async Task<TimeSpan> UntilAsync(HttpClient client, string path, HttpStatusCode status, Stopwatch since)
    {
        await Eventually.ValueAsync(() => client.GetAsync(path), response => response.StatusCode == status, TimeSpan.FromSeconds(10) - since.Elapsed,
            response => $"{path} still answers {(int)response.StatusCode} after 10 s, not {(int)status}", every: TimeSpan.FromMilliseconds(10));
        return since.Elapsed;
    }

    private static async Task UntilHealthAsync(RunningServer server, HttpStatusCode status, TimeSpan within)
    {
        using var client = server.Client();
        var response = await Eventually.ValueAsync(() => client.GetAsync("/healthz"), r => r.StatusCode == status, within,
            r => $"/healthz of {server.Address} still answers {(int)r.StatusCode} after {within.TotalSeconds} s");
        if (status == HttpStatusCode.ServiceUnavailable)
        {
            Assert.NotNull(response.Headers.RetryAfter);
        }
    }

    private static async Task<string?> ClaimedByAsync(ServerFleet fleet, Guid syncId)
    {
        var claimed = await fleet.ScalarAsync<object>("""SELECT "ClaimedBy" FROM "sync_runs" WHERE "Id" = @id""", ("id", syncId));
        return claimed as string;
    }
}

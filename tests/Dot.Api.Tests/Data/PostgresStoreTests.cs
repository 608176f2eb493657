using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Data;
using Dot.Api.Data.Postgres;
using Dot.Api.Sync;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dot.Api.Tests;

/// <summary>
/// What the store must give the same way on SQLite and PostgreSQL, and under several instances sharing one database
/// (API.md §7): timestamps that read back as written, list order that no database collation changes, sync runs
/// claimed once, <c>last_used_at</c> that never moves backwards. Each test runs on both stores, whatever
/// <c>DOT_TEST_STORE</c> says.
/// </summary>
[Trait("Store", "any")]
public sealed class PostgresStoreTests
{
    private const string WorkerEnabled = "Dot:Sync:WorkerEnabled";

    /// <summary>Text keys whose order differs between a linguistic collation (en-US) and code-unit order.</summary>
    private static readonly string[] AssetIds = ["a_b", "aB", "ab", "A-b", "a-b", "ab-", "a0", "_a", "-a", "Ab", "b", "B", "a b", "é", "e", "z", "Z_", "a~", "a.b"];

    private static readonly string[] ConnectionIds = ["a_b", "ab", "a-b", "ab-", "a0", "_a", "-a", "a--", "a__", "a-_", "a_-", "b", "0", "a1b", "a-1", "a_1"];

    private static DotApiFactory Factory(string store) => new(postgres: store == "postgres");

    /// <summary>A second instance on the first one's database (what a load balancer puts beside it).</summary>
    private static DotApiFactory Beside(DotApiFactory first, string instance) => new DotApiFactory(first.IsPostgres)
        .WithSetting("ConnectionStrings:Dot", first.ConnectionString)
        .WithSetting("Dot:Sync:InstanceName", instance);

    // ---- timestamps ----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TimestampsReadBackAsTheAnswerThatWroteThemShowedThem(string store)
    {
        await using var factory = Factory(store);
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        factory.Time.Advance(TimeSpan.FromTicks(1_234_567)); // 123.4567 ms: below PostgreSQL's microsecond

        var created = await admin.PostAsJsonAsync("/api/tokens", new { name = "precise", expires_in_days = 3 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        var id = body.GetProperty("id").GetGuid();
        var listed = (await (await admin.GetAsync("/api/tokens")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Single(t => t.GetProperty("id").GetGuid() == id);

        foreach (var field in new[] { "created_at", "expires_at" })
        {
            var written = body.GetProperty(field).GetString()!;
            Assert.Equal(written, listed.GetProperty(field).GetString());
            var at = Utc(written);
            Assert.Equal(0, at.Ticks % 10); // whole microseconds
            Assert.Equal(123_456, at.Ticks / 10 % 1_000_000);
        }

        await using var db = factory.OpenStore();
        var stored = await db.ApiTokens.AsNoTracking().SingleAsync(t => t.Id == id);
        Assert.Equal(DateTimeKind.Utc, stored.CreatedAt.Kind);
        Assert.Equal(Utc(body.GetProperty("created_at").GetString()!), stored.CreatedAt);

        // A use shown while it is pending, then written: the same value both times.
        factory.Time.Advance(TimeSpan.FromTicks(7_777));
        var secret = body.GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(secret).GetAsync("/api/auth/me")).StatusCode);
        var pending = await LastUsedAsync(admin, id);
        await factory.FlushTokenUsageAsync();
        Assert.Equal(pending, await LastUsedAsync(admin, id));
        Assert.Equal(0, Utc(pending!).Ticks % 10);

        // A client's own time with 100 ns digits (an asset's last access): kept to the microsecond, read back so.
        var (_, _, modeler) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var imported = await modeler.PostAsJsonAsync("/api/import_and_overwrite_external_asset",
            new { external_asset = new { id = "report-1", name = "Report", last_accessed_at = "2026-01-10T08:30:00.1234567Z" } });
        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        var asset = (await imported.JsonAsync()).GetProperty("external_asset");
        var read = (await (await modeler.GetAsync("/api/external_assets")).JsonAsync()).GetProperty("items")[0];
        foreach (var field in new[] { "last_accessed_at", "created_at", "updated_at" })
        {
            Assert.Equal(asset.GetProperty(field).GetString(), read.GetProperty(field).GetString());
        }

        Assert.Equal("2026-01-10T08:30:00.123456Z", asset.GetProperty("last_accessed_at").GetString());

        // A run queued by raw SQL (INSERT … RETURNING): its requested_at as the store keeps it.
        await CreateConnectionAsync(admin);
        var queued = await (await admin.PostAsync("/api/sync/snowflake/warehouse", null)).JsonAsync();
        var run = await (await admin.GetAsync($"/api/sync/runs/{queued.GetProperty("sync_id").GetGuid()}")).JsonAsync();
        Assert.Equal(queued.GetProperty("requested_at").GetString(), run.GetProperty("requested_at").GetString());
        Assert.Equal(0, Utc(run.GetProperty("requested_at").GetString()!).Ticks % 10);
    }

    private static DateTime Utc(string text)
    {
        var at = DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        Assert.Equal(DateTimeKind.Utc, at.Kind);
        return at;
    }

    private static async Task<string?> LastUsedAsync(HttpClient client, Guid tokenId)
        => (await (await client.GetAsync("/api/tokens")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Single(t => t.GetProperty("id").GetGuid() == tokenId).GetProperty("last_used_at").GetString();

    // ---- keyset order --------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    [InlineData("postgres-icu")]
    public async Task PagesOfTextKeysGiveEveryRowOnceInOrdinalOrderWhateverTheDatabaseCollation(string store)
    {
        await using var icu = store == "postgres-icu" ? await IcuDatabase.CreateAsync() : null;
        await using var factory = icu is null ? Factory(store) : new DotApiFactory(postgres: true).WithSetting("ConnectionStrings:Dot", icu.ConnectionString);
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        foreach (var id in AssetIds)
        {
            var imported = await admin.PostAsJsonAsync("/api/import_and_overwrite_external_asset", new { external_asset = new { id, name = id } });
            Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        }

        foreach (var id in ConnectionIds)
        {
            var created = await admin.PostAsJsonAsync("/api/connections",
                new { type = "postgres", id, settings = new { host = "db.example.com" }, secrets = new { password = "pw" } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        if (icu is not null)
        {
            // The database's own order is not code-unit order, or this test would prove nothing.
            Assert.NotEqual(AssetIds.Order(StringComparer.Ordinal), await icu.DefaultOrderAsync("external_assets"));
            Assert.NotEqual(ConnectionIds.Order(StringComparer.Ordinal), await icu.DefaultOrderAsync("connections"));
        }

        foreach (var limit in new[] { 1, 2, 3, 7 })
        {
            Assert.Equal(AssetIds.Order(StringComparer.Ordinal), await PageThroughAsync(admin, "/api/external_assets", limit, "id"));
            Assert.Equal(ConnectionIds.Order(StringComparer.Ordinal), await PageThroughAsync(admin, "/api/connections", limit, "id"));
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task PagesOfRowsMadeAtOneInstantFollowTheirIdsInGuidOrder(string store)
    {
        // The fake clock stands still: every user has the same created_at, so only the id orders them (uuid on
        // PostgreSQL, TEXT on SQLite), and the cursor's id must compare in the database as it does in .NET.
        await using var factory = Factory(store);
        var (first, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var ids = new List<Guid> { first.Id };
        for (var i = 0; i < 24; i++)
        {
            ids.Add((await factory.CreateUserAsync($"u{i}@example.com")).Id);
        }

        var expected = ids.Order().Select(id => id.ToString()).ToList(); // Guid.CompareTo
        foreach (var limit in new[] { 1, 4, 10 })
        {
            Assert.Equal(expected, await PageThroughAsync(admin, "/api/users", limit, "id"));
        }
    }

    private static async Task<List<string>> PageThroughAsync(HttpClient client, string path, int limit, string key)
    {
        var seen = new List<string>();
        string? cursor = null;
        for (var pages = 0; pages < 500; pages++)
        {
            var url = $"{path}?limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await (await client.GetAsync(url)).JsonAsync();
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty(key).ToString()));
            if (page.GetProperty("next_cursor").ValueKind == JsonValueKind.Null)
            {
                return seen;
            }

            cursor = page.GetProperty("next_cursor").GetString();
        }

        throw new InvalidOperationException($"{path} never ended");
    }

    /// <summary>A database of the shared cluster with an ICU en-US collation (not C), migrated with the product's migrations.</summary>
    private sealed class IcuDatabase : IAsyncDisposable
    {
        private IcuDatabase(string name, string connectionString) => (Name, ConnectionString) = (name, connectionString);

        public string Name { get; }

        public string ConnectionString { get; }

        public static async Task<IcuDatabase> CreateAsync()
        {
            var cluster = await SharedPostgres.GetAsync();
            var name = "icu_" + Guid.NewGuid().ToString("N")[..16];
            await using (var connection = new NpgsqlConnection(cluster.ConnectionString("postgres")))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand(
                    $"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'", connection);
                await create.ExecuteNonQueryAsync();
            }

            var connectionString = await SharedPostgres.ConnectionStringAsync(name);
            await using (var db = new PostgresDotDbContext(new DbContextOptionsBuilder<PostgresDotDbContext>().UseNpgsql(connectionString).Options))
            {
                await db.Database.MigrateAsync();
            }

            return new IcuDatabase(name, connectionString);
        }

        /// <summary>The table's ids as the database orders them by itself.</summary>
        public async Task<List<string>> DefaultOrderAsync(string table)
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"SELECT \"Id\" FROM {table} ORDER BY \"Id\"", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var ids = new List<string>();
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await SharedPostgres.DropDatabaseAsync(Name);
        }
    }

    // ---- sync runs -----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ManyTriggersOnTwoInstancesAtOnceMakeOneRun(string store)
    {
        await using var first = Factory(store).WithSetting(WorkerEnabled, "false");
        var (_, token, client) = await first.CreateCallerAsync("admin@example.com", Role.Admin);
        await CreateConnectionAsync(client);
        await using var second = Beside(first, "second").WithSetting(WorkerEnabled, "false");
        var other = second.ClientWith(token);

        for (var round = 0; round < 5; round++)
        {
            var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
                (i % 2 == 0 ? client : other).PostAsync("/api/sync/snowflake/warehouse", null)));

            Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
            var ids = new HashSet<Guid>();
            foreach (var answer in answers)
            {
                ids.Add((await answer.JsonAsync()).GetProperty("sync_id").GetGuid());
            }

            var run = Assert.Single(ids);
            await using var db = first.OpenStore();
            Assert.Equal(round + 1, await db.SyncRuns.CountAsync());
            await db.SyncRuns.Where(r => r.Id == run).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, SyncStatus.Failed));
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ClaimersRacingOnOneQueuedRunTakeItOnce(string store)
    {
        await using var first = Factory(store).WithSetting(WorkerEnabled, "false").WithSetting("Dot:Sync:InstanceName", "first");
        var (_, _, client) = await first.CreateCallerAsync("admin@example.com", Role.Admin);
        await CreateConnectionAsync(client);
        await using var second = Beside(first, "second").WithSetting(WorkerEnabled, "false");
        _ = second.Services; // started, so its claims race the first's from the first round

        for (var round = 0; round < 10; round++)
        {
            var queued = (await (await client.PostAsync("/api/sync/snowflake/warehouse", null)).JsonAsync()).GetProperty("sync_id").GetGuid();
            using var start = new ManualResetEventSlim();
            var claimers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                // Each in a scope (a context, a connection) of its own, as the workers of two instances are.
                await using var scope = (i % 2 == 0 ? first : second).Services.CreateAsyncScope();
                var runs = scope.ServiceProvider.GetRequiredService<SyncRunStore>();
                await scope.ServiceProvider.GetRequiredService<DotDbContext>().Database.OpenConnectionAsync();
                start.Wait();
                return await runs.TryClaimAsync(CancellationToken.None);
            })).ToList();
            start.Set();
            var claims = await Task.WhenAll(claimers);

            var claim = Assert.Single(claims, c => c is not null)!;
            Assert.Equal(queued, claim.Id);
            await using var db = first.OpenStore();
            var stored = await db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == queued);
            Assert.Equal(SyncStatus.Running, stored.Status);
            Assert.Equal(claim.ClaimedBy, stored.ClaimedBy);
            await db.SyncRuns.Where(r => r.Id == queued).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, SyncStatus.Failed));
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task RunWhoseHeartbeatOutlivedTheLeaseIsTakenOverByAnotherInstance(string store)
    {
        await using var first = Factory(store).WithSetting(WorkerEnabled, "false").WithSetting("Dot:Sync:InstanceName", "first");
        var (_, _, client) = await first.CreateCallerAsync("admin@example.com", Role.Admin);
        await CreateConnectionAsync(client);
        await using var second = Beside(first, "second").WithSetting(WorkerEnabled, "false");
        var queued = (await (await client.PostAsync("/api/sync/snowflake/warehouse", null)).JsonAsync()).GetProperty("sync_id").GetGuid();

        var claimed = await WithRunsAsync(first, runs => runs.TryClaimAsync(CancellationToken.None));
        Assert.Equal(("first", queued), (claimed!.ClaimedBy, claimed.Id));

        // Within the lease (120 s) the run is the first instance's; past it, with no heartbeat, it is nobody's.
        second.Time.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(0, await WithRunsAsync(second, runs => runs.RequeueAbandonedAsync(false, [], CancellationToken.None)));
        Assert.Null(await WithRunsAsync(second, runs => runs.TryClaimAsync(CancellationToken.None)));
        second.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await WithRunsAsync(second, runs => runs.RequeueAbandonedAsync(false, [], CancellationToken.None)));
        var taken = await WithRunsAsync(second, runs => runs.TryClaimAsync(CancellationToken.None));
        Assert.Equal(("second", queued), (taken!.ClaimedBy, taken.Id));

        // The first instance comes back: its outcome and its heartbeat no longer count.
        Assert.Equal(0, await WithRunsAsync(first, runs => runs.CloseAsync(claimed, null, "late", first.Time.GetUtcNow().UtcDateTime)));
        await WithRunsAsync(first, async runs => { await runs.HeartbeatAsync([queued], CancellationToken.None); return 0; });
        await using var db = first.OpenStore();
        var stored = await db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == queued);
        Assert.Equal((SyncStatus.Running, "second"), (stored.Status, stored.ClaimedBy));
        Assert.Equal(taken.HeartbeatAt, stored.HeartbeatAt);
    }

    [Fact]
    public void DefaultInstanceNameIsUniquePerProcessAndHost()
    {
        var a = new SyncOptions().InstanceName;
        var b = new SyncOptions().InstanceName;
        Assert.NotEqual(a, b);
        Assert.StartsWith($"{Environment.MachineName}-{Environment.ProcessId}-", a, StringComparison.Ordinal);
        Assert.Empty(SyncOptions.Check(new SyncOptions()));
    }

    private static async Task<T> WithRunsAsync<T>(DotApiFactory factory, Func<SyncRunStore, Task<T>> work)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<SyncRunStore>());
    }

    private static async Task CreateConnectionAsync(HttpClient admin)
    {
        var created = await admin.PostAsJsonAsync("/api/connections",
            new { type = "snowflake", id = "warehouse", settings = new { host = "db.example.com" }, secrets = new { password = "pw" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    // ---- last used -----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task LastUsedNeverMovesBackwardsWhenInstancesFlushOutOfOrder(string store)
    {
        await using var first = Factory(store);
        var user = await first.CreateUserAsync("user@example.com");
        var (_, tokenId) = await first.CreateTokenAsync(user.Id);
        await using var second = Beside(first, "second");
        var older = first.Time.GetUtcNow().UtcDateTime.AddSeconds(10);
        var newer = older.AddSeconds(20);

        // The second instance saw the newer use, the first the older; the newer batch is written first.
        second.Services.GetRequiredService<TokenUsageRecorder>().Record(tokenId, new TokenUsage(newer, IPAddress.Parse("10.0.0.2"), "header"));
        first.Services.GetRequiredService<TokenUsageRecorder>().Record(tokenId, new TokenUsage(older, IPAddress.Parse("10.0.0.1"), "query"));
        Assert.Equal(1, await second.Services.GetRequiredService<TokenUsageRecorder>().FlushAsync(CancellationToken.None));
        Assert.Equal(0, await first.Services.GetRequiredService<TokenUsageRecorder>().FlushAsync(CancellationToken.None));

        await using var db = first.OpenStore();
        var token = await db.ApiTokens.AsNoTracking().SingleAsync(t => t.Id == tokenId);
        Assert.Equal((newer, "10.0.0.2", "header"), (token.LastUsedAt!.Value, token.LastUsedIp, token.LastUsedVia));
    }
}

using System.Net;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Connectors;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Data;
using Dot.Api.Sync;
using Dot.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>GET /api/connections/{type}/{id}/catalog: who reads it, before a sync, after one, atomic replacement, deletion.</summary>
public sealed class CatalogTests
{
    private static readonly string Manifest = ManifestFacts.FixturePath("jaffle_shop-v9.manifest.json");

    [Fact]
    public async Task CatalogBeforeTheFirstSyncIsEmptyWithNoSyncId()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "project", new { manifest_path = Manifest });

        var catalog = await admin.CatalogAsync("dbt", "project");

        Assert.Equal("dbt", catalog.Str("connection_type"));
        Assert.Equal("project", catalog.Str("connection_id"));
        Assert.Equal(JsonValueKind.Null, catalog.GetProperty("sync_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, catalog.GetProperty("synced_at").ValueKind);
        Assert.Empty(catalog.GetProperty("schemas").EnumerateArray());
    }

    [Theory]
    [InlineData("/api/connections/dbt/nope/catalog")]
    [InlineData("/api/connections/postgres/project/catalog")]
    [InlineData("/api/connections/oracle/project/catalog")]
    [InlineData("/api/connections/dbt/Not%20A%20Slug/catalog")]
    public async Task CatalogOfAnUnknownConnectionIsNotFound(string route)
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "project", new { manifest_path = Manifest });

        var response = await admin.GetAsync(route);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AdminsAndModelersReadTheCatalogueUsersDoNotAndUrlTokensAreRefused()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "project", new { manifest_path = Manifest });
        var run = await admin.SyncAsync("dbt", "project");
        var (modelerUser, modelerToken, modeler) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var (_, _, user) = await factory.CreateCallerAsync("user@example.com", Role.User);

        var asModeler = await modeler.CatalogAsync("dbt", "project");
        var asUser = await user.GetAsync("/api/connections/dbt/project/catalog");
        var anonymous = await factory.CreateClient().GetAsync("/api/connections/dbt/project/catalog");
        var byUrl = await factory.CreateClient().GetAsync(
            $"/api/connections/dbt/project/catalog?user_id={Uri.EscapeDataString(modelerUser.Email)}&api_token={modelerToken}");

        Assert.Equal(run.Str("sync_id"), asModeler.Str("sync_id"));
        Assert.Equal(run.Str("finished_at"), asModeler.Str("synced_at"));
        Assert.NotEmpty(asModeler.GetProperty("schemas").EnumerateArray());
        Assert.Equal(HttpStatusCode.Forbidden, asUser.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, byUrl.StatusCode);
        Assert.Equal("query_token_not_allowed", (await byUrl.JsonAsync()).Str("reason"));
        Assert.Equal(HttpStatusCode.Forbidden, (await modeler.PostAsync("/api/sync/dbt/project", null)).StatusCode);
    }

    [Fact]
    public async Task FailedSyncKeepsThePreviousCatalogue()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var path = Path.Combine(factory.Directory, "manifest.json");
        File.Copy(Manifest, path);
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "project", new { manifest_path = path });
        var good = await admin.SyncAsync("dbt", "project");
        var before = await admin.CatalogAsync("dbt", "project");

        await File.WriteAllTextAsync(path, """{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v4.json"}}""");
        var bad = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "project"));
        var after = await admin.CatalogAsync("dbt", "project");

        Assert.Equal("failed", bad.Str("status"));
        Assert.Equal(good.Str("sync_id"), after.Str("sync_id"));
        Assert.Equal(before.GetRawText(), after.GetRawText());
    }

    [Fact]
    public async Task DeletingAConnectionDeletesItsCatalogue()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "project", new { manifest_path = Manifest });
        await admin.CreateConnectionAsync("dbt", "other", new { manifest_path = Manifest });
        await admin.SyncAsync("dbt", "project");
        await admin.SyncAsync("dbt", "other");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/connections/dbt/project")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/connections/dbt/project/catalog")).StatusCode);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
            Assert.False(await db.Catalogs.AnyAsync(c => c.ConnectionId == "project"));
            Assert.False(await db.CatalogSchemas.AnyAsync(c => c.ConnectionId == "project"));
            Assert.False(await db.CatalogTables.AnyAsync(c => c.ConnectionId == "project"));
            Assert.False(await db.CatalogColumns.AnyAsync(c => c.ConnectionId == "project"));
            Assert.True(await db.CatalogTables.AnyAsync(c => c.ConnectionId == "other"));
        }

        // Created again: no catalogue until it syncs.
        await admin.CreateConnectionAsync("dbt", "project", new { manifest_path = Manifest });
        Assert.Equal(JsonValueKind.Null, (await admin.CatalogAsync("dbt", "project")).GetProperty("sync_id").ValueKind);
    }

    /// <summary>
    /// Syncs replace a catalogue of one generation with the next (different schemas, tables and sizes) while a reader
    /// asks for it without pause: every answer is one whole generation, with the sync id that wrote it.
    /// </summary>
    [Fact]
    public async Task ReadersSeeTheOldOrTheNewCatalogueNeverAMix()
    {
        var connector = new GenerationsConnector();
        await using var factory = new DotApiFactory().WithServices(s => s.AddSingleton<ISyncConnector>(connector));
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("postgres", "warehouse", new { host = "unused.example.com" });
        var reader = factory.CreateClient();
        reader.DefaultRequestHeaders.Add("API-KEY", (await factory.CreateTokenAsync((await factory.CreateUserAsync("m@example.com", Role.Modeler)).Id)).Token);

        var syncIds = new Dictionary<int, Guid>();
        using var stop = new CancellationTokenSource();
        var reads = 0;
        var seen = false;
        var reading = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var catalog = await reader.CatalogAsync("postgres", "warehouse");
                Interlocked.Increment(ref reads);
                if (catalog.GetProperty("sync_id").ValueKind == JsonValueKind.Null)
                {
                    // Only before the first sync: a replacement never shows an empty catalogue in between.
                    Assert.False(seen, "the catalogue vanished during a replacement");
                    Assert.Empty(catalog.GetProperty("schemas").EnumerateArray());
                    continue;
                }

                seen = true;

                var descriptions = catalog.GetProperty("schemas").EnumerateArray()
                    .SelectMany(s => s.GetProperty("tables").EnumerateArray())
                    .SelectMany(t => t.GetProperty("columns").EnumerateArray().Select(c => c.Str("description")).Append(t.Str("description")))
                    .Distinct()
                    .ToList();
                var generation = int.Parse(Assert.Single(descriptions)!["generation ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(GenerationsConnector.Build(generation).TablesCount, catalog.Tables().Count);
                lock (syncIds)
                {
                    if (syncIds.TryGetValue(generation, out var id))
                    {
                        Assert.Equal(id, catalog.GetProperty("sync_id").GetGuid());
                    }
                }
            }
        });

        for (var generation = 1; generation <= 8; generation++)
        {
            connector.Next = generation;
            var syncId = await admin.TriggerSyncAsync("postgres", "warehouse");
            lock (syncIds)
            {
                syncIds[generation] = syncId;
            }

            var run = await admin.WaitForRunAsync(syncId);
            Assert.Equal("succeeded", run.Str("status"));
            Assert.Equal(GenerationsConnector.Build(generation).ColumnsCount, run.GetProperty("columns_count").GetInt32());
        }

        await stop.CancelAsync();
        await reading;
        Assert.True(reads > 8, $"only {reads} reads");
        Assert.Equal(syncIds[8], (await admin.CatalogAsync("postgres", "warehouse")).GetProperty("sync_id").GetGuid());
    }

    /// <summary>When the catalogue cannot be stored, the run fails saying so and the previous catalogue stays, whole.</summary>
    [Fact]
    public async Task RunWhoseCatalogueCannotBeStoredFailsAndKeepsThePreviousOne()
    {
        var connector = new GenerationsConnector { Next = 1 };
        var breaker = new BreakingHandler();
        await using var factory = new DotApiFactory().WithServices(s =>
        {
            s.AddSingleton<ISyncConnector>(connector);
            s.AddSingleton<ISyncSucceededHandler>(breaker); // after the store's handler: it has written, then this throws
        });
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("postgres", "warehouse", new { host = "unused.example.com" });
        var first = await admin.SyncAsync("postgres", "warehouse");
        var before = await admin.CatalogAsync("postgres", "warehouse");

        breaker.Broken = true;
        connector.Next = 2;
        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("postgres", "warehouse"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal("the sync's results could not be stored (InvalidOperationException).", run.Str("error"));
        Assert.Equal(JsonValueKind.Null, run.GetProperty("tables_count").ValueKind);
        Assert.Equal(before.GetRawText(), (await admin.CatalogAsync("postgres", "warehouse")).GetRawText());
        Assert.Equal(first.Str("sync_id"), before.Str("sync_id"));
    }

    private sealed class BreakingHandler : ISyncSucceededHandler
    {
        public bool Broken { get; set; }

        public Task OnSucceededAsync(SyncRun run, SyncOutcome outcome, DateTime finishedAt, CancellationToken cancellationToken)
            => Broken ? throw new InvalidOperationException("disk full") : Task.CompletedTask;
    }

    /// <summary>A connector whose n-th catalogue has its own schemas, sizes and descriptions ("generation n").</summary>
    private sealed class GenerationsConnector : ISyncConnector
    {
        public int Next { get; set; }

        public string Type => "postgres";

        public static CatalogSnapshot Build(int generation)
        {
            var builder = new CatalogBuilder();
            var text = $"generation {generation}";
            for (var s = 0; s < 2 + (generation % 3); s++)
            {
                for (var t = 0; t < 20 + (generation * 7 % 30); t++)
                {
                    builder.AddTable("db", $"g{generation}_schema_{s}", $"table_{t}", CatalogKinds.Table, text,
                        Enumerable.Range(1, 5 + (t % 7)).Select(c => new CatalogColumn($"col_{c}", "text", true, c, text)));
                }
            }

            return builder.Build();
        }

        public Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct) => Task.FromResult(SyncOutcome.Of(Build(Next)));
    }
}

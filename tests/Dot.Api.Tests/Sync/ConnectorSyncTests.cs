using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dot.Api.Access;
using Dot.Api.Connections;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>
/// One sync per connector through the real pipeline (a connection created with an admin token, a sync triggered and
/// awaited, the run and the catalogue read back), against the loopback fakes of tests/Dot.Api.Connectors.Tests, where
/// each connector's own behaviour is tested by driving it directly. And what the server does around a connector: its
/// run timeout, a connection deleted mid-run, external assets imported (and overwritten) with the run, nothing stored
/// from a failed run, a stored setting's credentials kept out of the answers. The PostgreSQL targets:
/// <see cref="DatabaseConnectorSyncTests"/>.
/// </summary>
public sealed class ConnectorSyncTests
{
    private const string BigQueryProject = "dot-analytics-prod";
    private const string BigQueryClientEmail = "dot-catalog@dot-analytics-prod.iam.gserviceaccount.com";
    private const string DatabricksPat = "dapi-Pat-Marker-4e5f6a7b8c9d";
    private const string LookerClientId = "Kq7dJ3mXyZp2Vb9Rt4Lw";
    private const string LookerClientSecret = "Looker-Secret-Marker-6c5d4e3f2a1b";

    /// <summary>A line from the middle of a key's base64: no part of the key may show anywhere.</summary>
    private static string KeyLine(RSA key) => key.ExportPkcs8PrivateKeyPem().Split('\n')[5];

    private static Dictionary<string, object> LookerSettings(LookerFake fake, object? extra = null)
    {
        var settings = new Dictionary<string, object> { ["base_url"] = fake.BaseAddress.ToString(), ["client_id"] = LookerClientId, ["page_size"] = 2 };
        foreach (var property in extra is null ? [] : JsonSerializer.SerializeToElement(extra).EnumerateObject())
        {
            settings[property.Name] = property.Value;
        }

        return settings;
    }

    private static async Task<List<JsonElement>> AssetsAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/external_assets?limit=200");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.JsonAsync()).GetProperty("items").EnumerateArray()];
    }

    [Fact]
    public async Task BigQuerySyncStoresTheDatasetsItRead()
    {
        using var key = RSA.Create(2048);
        await using var factory = new DotApiFactory().WithTraceLogging();
        await using var fake = await new BigQueryFake(key, BigQueryClientEmail, BigQueryProject, factory.Time).StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("bigquery", "prod", new { project = BigQueryProject, api_url = fake.BaseAddress.ToString() },
            new { service_account_key = fake.ServiceAccountKey(key) });

        var run = await admin.SyncAsync("bigquery", "prod");
        var catalog = await admin.CatalogAsync("bigquery", "prod");

        Assert.Equal((3, 6, 15), (run.GetProperty("schemas_count").GetInt32(), run.GetProperty("tables_count").GetInt32(), run.GetProperty("columns_count").GetInt32()));
        Assert.Equal(["marketing_eu", "sales", "staging"], catalog.GetProperty("schemas").EnumerateArray().Select(s => s.Str("name")!).Order(StringComparer.Ordinal));
        Assert.Equal("One row per order. Amounts in \"EUR\".\nSee the wiki.", catalog.Tables()["sales.orders"].Str("description"));
        Assert.Equal(1, fake.TokensIssued);
        factory.AssertNoSecret(run, KeyLine(key));
        Assert.DoesNotContain("ya29.", factory.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>The worker's own limit on a run (Dot:Sync:RunTimeoutMinutes, on the server's clock) cancels a connector's request under way.</summary>
    [Fact]
    public async Task RunTimeoutCancelsTheConnectorsRequestUnderWay()
    {
        using var key = RSA.Create(2048);
        await using var factory = new DotApiFactory();
        await using var fake = await new BigQueryFake(key, BigQueryClientEmail, BigQueryProject, factory.Time) { Delay = TimeSpan.FromMinutes(5) }.StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("bigquery", "stuck", new { api_url = fake.BaseAddress.ToString() }, new { service_account_key = fake.ServiceAccountKey(key) });
        var syncId = await admin.TriggerSyncAsync("bigquery", "stuck");
        await Eventually.TrueAsync(() => fake.Requests.Any(r => r.Contains("/bigquery/", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the connector never reached the fake");

        factory.Time.Advance(TimeSpan.FromMinutes(61));
        var run = await admin.WaitForRunAsync(syncId, seconds: 20);

        Assert.Equal(("failed", "the bigquery connector did not finish within 60 minutes"), (run.Str("status"), run.Str("error")));
    }

    [Fact]
    public async Task DatabricksSyncStoresEveryCatalog()
    {
        await using var fake = await new DatabricksFake(DatabricksPat).StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString() }, new { token = DatabricksPat });

        var run = await admin.SyncAsync("databricks", "lakehouse");
        var catalog = await admin.CatalogAsync("databricks", "lakehouse");

        Assert.Equal(DatabricksFake.FixtureTables().Keys.Order(StringComparer.Ordinal), catalog.Tables(withDatabase: true).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(4, run.GetProperty("schemas_count").GetInt32());
        Assert.Equal(DatabricksFake.FixtureTables().Count, run.GetProperty("tables_count").GetInt32());
        factory.AssertNoSecret(run, DatabricksPat);
    }

    [Fact]
    public async Task ConnectionDeletedMidRunStoresNothing()
    {
        await using var fake = await new DatabricksFake(DatabricksPat) { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) }.StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString() }, new { token = DatabricksPat });

        var syncId = await admin.TriggerSyncAsync("databricks", "lakehouse");
        await fake.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/connections/databricks/lakehouse")).StatusCode);
        fake.Gate!.SetResult();
        var run = await admin.WaitForRunAsync(syncId);

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal("the connection was deleted", run.Str("error"));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/connections/databricks/lakehouse/catalog")).StatusCode);
    }

    [Fact]
    public async Task DbtManifestServedOverHttpWithATokenIsSyncedAndTheTokenStaysSecret()
    {
        const string token = "dbtc_Secret-Service-Token-4f1e2d";
        var path = ManifestFacts.FixturePath("analytics-v12.manifest.json");
        await using var server = await new ManifestServer(path, $"Bearer {token}").StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "cloud", new { manifest_url = server.ManifestUrl.ToString() }, new { manifest_token = token });

        var run = await admin.SyncAsync("dbt", "cloud");

        var expected = ManifestFacts.Relations(path);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), ManifestFacts.Relations(await admin.CatalogAsync("dbt", "cloud")).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(expected.Count, run.GetProperty("tables_count").GetInt32());
        Assert.Equal($"Bearer {token}", server.AuthorizationHeaders.First());
        factory.AssertNoSecret(run, token);
    }

    /// <summary>
    /// A connection stored before URL credentials were refused (written here straight through the service, past the
    /// API's validation): its password and signature reach no log line, no answer and not the run's error.
    /// </summary>
    [Fact]
    public async Task StoredUrlWithAPasswordNeverReachesTheLogsTheAnswersOrTheRunError()
    {
        const string password = "Url-Password-3b9d1f";
        const string signature = "Url-Signature-8c2e4a";
        await using var server = await new ManifestServer(ManifestFacts.FixturePath("jaffle_shop-v9.manifest.json"), null).StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var url = $"http://dot-user:{password}@127.0.0.1:{server.BaseAddress.Port}{ManifestServer.ArtifactPath}?sig={signature}";
        await StoreConnectionAsync(factory, "dbt", "legacy", new() { ["manifest_url"] = url });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "legacy"));
        var one = await (await admin.GetAsync("/api/connections/dbt/legacy")).Content.ReadAsStringAsync();
        var list = await (await admin.GetAsync("/api/connections")).Content.ReadAsStringAsync();

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith("the dbt setting manifest_url holds a user name, a password or a query string", run.Str("error"), StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", one, StringComparison.Ordinal);
        foreach (var text in new[] { run.GetRawText(), one, list, factory.Logs.AllText })
        {
            Assert.DoesNotContain(password, text, StringComparison.Ordinal);
            Assert.DoesNotContain(signature, text, StringComparison.Ordinal);
        }

        Assert.Empty(server.AuthorizationHeaders); // nothing was sent
    }

    /// <summary>Explores become the catalogue, and dashboards and Looks external assets, imported as the import endpoint would, in the run's transaction.</summary>
    [Fact]
    public async Task LookerSyncStoresExploresAndImportsDashboardsAndLooks()
    {
        await using var fake = await new LookerFake(LookerClientId, LookerClientSecret).StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("looker", "bi", LookerSettings(fake), new { client_secret = LookerClientSecret });

        var run = await admin.SyncAsync("looker", "bi");
        var catalog = await admin.CatalogAsync("looker", "bi");

        var tables = catalog.Tables(withDatabase: true);
        Assert.Equal(["ecommerce.thelook.order_items", "ecommerce.thelook.users", "finance.finance.revenue"], tables.Keys.Order(StringComparer.Ordinal));
        Assert.All(tables.Values, t => Assert.Equal("explore", t.Str("kind")));
        Assert.Equal(3, run.GetProperty("tables_count").GetInt32());

        var assets = (await AssetsAsync(admin)).ToDictionary(a => a.Str("id")!, StringComparer.Ordinal);
        Assert.Equal(["looker/bi/dashboards/42", "looker/bi/dashboards/43", "looker/bi/dashboards/51", "looker/bi/looks/12", "looker/bi/looks/19"],
            assets.Keys.Order(StringComparer.Ordinal));
        var revenue = assets["looker/bi/dashboards/42"];
        Assert.Equal(("dashboard", "Finance", "Revenue", "Monthly revenue by region"), (revenue.Str("subtype"), revenue.Str("folder"), revenue.Str("name"), revenue.Str("description")));
        Assert.Equal($"{fake.BaseAddress}dashboards/42", revenue.Str("url"));
        Assert.Equal(17, revenue.GetProperty("view_count").GetInt64());
        Assert.Equal(new DateTime(2026, 11, 30, 9, 15, 0, DateTimeKind.Utc), revenue.GetProperty("last_accessed_at").GetDateTime().ToUniversalTime());
        Assert.True(revenue.GetProperty("active").GetBoolean());
        Assert.Equal(JsonValueKind.Null, assets["looker/bi/looks/19"].GetProperty("last_accessed_at").ValueKind);
        Assert.Equal((1, 1, 0), (fake.Logins, fake.Logouts, fake.LiveTokens));
        factory.AssertNoSecret(run, LookerClientSecret);
    }

    /// <summary>A second sync overwrites the assets it imported (the import's upsert); one gone from Looker is kept.</summary>
    [Fact]
    public async Task NextSyncOverwritesAssetsAndKeepsOnesGoneFromLooker()
    {
        await using var fake = await new LookerFake(LookerClientId, LookerClientSecret).StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("looker", "bi", LookerSettings(fake, new { web_url = "https://looker.example.com" }),
            new { client_secret = LookerClientSecret });
        await admin.SyncAsync("looker", "bi");

        fake.Dashboards = new JsonArray(
            JsonNode.Parse("""{"id": "42", "title": "Revenue (new)", "description": null, "folder": {"name": "Board"}, "view_count": 18}"""));
        await admin.SyncAsync("looker", "bi");

        var assets = (await AssetsAsync(admin)).ToDictionary(a => a.Str("id")!, StringComparer.Ordinal);
        Assert.Equal(5, assets.Count);
        var revenue = assets["looker/bi/dashboards/42"];
        Assert.Equal(("Revenue (new)", "Board", null, 18L), (revenue.Str("name"), revenue.Str("folder"), revenue.Str("description"), revenue.GetProperty("view_count").GetInt64()));
        Assert.Equal("https://looker.example.com/dashboards/42", revenue.Str("url"));
        Assert.Equal("Orders overview", assets["looker/bi/dashboards/43"].Str("name")); // gone from Looker: kept as it was
    }

    /// <summary>A failure after the catalogue was read stores neither it nor any asset, and still logs out.</summary>
    [Fact]
    public async Task FailureStoresNeitherCatalogueNorAssetsAndLogsOut()
    {
        await using var fake = await new LookerFake(LookerClientId, LookerClientSecret) { BrokenPath = "looks/search" }.StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("looker", "bi", LookerSettings(fake), new { client_secret = LookerClientSecret });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("looker", "bi"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"{fake.BaseAddress}api/4.0/looks/search answered 500 (An error has occurred.)", run.Str("error"));
        Assert.Empty(await AssetsAsync(admin));
        Assert.Equal(JsonValueKind.Null, (await admin.CatalogAsync("looker", "bi")).GetProperty("sync_id").ValueKind);
        Assert.Equal((1, 0), (fake.Logouts, fake.LiveTokens));
        factory.AssertNoSecret(run, LookerClientSecret);
    }

    [Fact]
    public async Task ConnectionDeletedMidRunStoresNoAssets()
    {
        await using var fake = await new LookerFake(LookerClientId, LookerClientSecret) { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) }.StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("looker", "bi", LookerSettings(fake), new { client_secret = LookerClientSecret });

        var syncId = await admin.TriggerSyncAsync("looker", "bi");
        await fake.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/connections/looker/bi")).StatusCode);
        fake.Gate!.SetResult();
        var run = await admin.WaitForRunAsync(syncId);

        // The run's connector finishes after the deletion (its outcome discarded); its logout marks the end.
        await Eventually.TrueAsync(() => fake.Logouts > 0, TimeSpan.FromSeconds(30), "the connector never logged out");

        Assert.Equal("the connection was deleted", run.Str("error"));
        Assert.Empty(await AssetsAsync(admin));
    }

    /// <summary>No SQL Server runs here: the mssql connector's sync through the server is one that fails before a login, at once.</summary>
    [Fact]
    public async Task MssqlSyncOfAClosedPortFailsAtOnceSayingRefusedAndShowsNoPassword()
    {
        const string password = "Sql-Secret-7d41e9";
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var port = ClosedPort();
        await admin.CreateConnectionAsync("mssql", "nowhere", new { host = "127.0.0.1", port, database = "Sales", user = "dot", connect_timeout_seconds = 3 },
            new { password });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("mssql", "nowhere"), seconds: 15);

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"could not connect to 127.0.0.1:{port}: Connection refused", run.Str("error"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        factory.AssertNoSecret(run, password);
    }

    [Fact]
    public async Task SnowflakeSyncStoresEveryDatabase()
    {
        using var key = RSA.Create(2048);
        await using var factory = new DotApiFactory().WithTraceLogging();
        await using var fake = await new SnowflakeFake(key, "myorg-myaccount", "dot_reader", factory.Time).StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("snowflake", "warehouse",
            new { account = "myorg-myaccount", account_url = fake.BaseAddress.ToString(), user = "dot_reader", role = "DOT_CATALOG", warehouse = "DOT_WH" },
            new { private_key = key.ExportPkcs8PrivateKeyPem() });

        var run = await admin.SyncAsync("snowflake", "warehouse");
        var catalog = await admin.CatalogAsync("snowflake", "warehouse");

        Assert.Equal((3, 6), (run.GetProperty("schemas_count").GetInt32(), run.GetProperty("tables_count").GetInt32()));
        var tables = catalog.Tables(withDatabase: true);
        Assert.Contains("ANALYTICS.SALES.ORDERS", tables.Keys);
        Assert.Contains("Raw Data.Landing Zone.orders \"v1\"", tables.Keys);
        Assert.Empty(fake.Refusals);
        factory.AssertNoSecret(run, KeyLine(key));
    }

    /// <summary>Stores a connection through the service, as one created before today's validation would be.</summary>
    private static async Task StoreConnectionAsync(DotApiFactory factory, string type, string id, Dictionary<string, object> settings)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var connections = scope.ServiceProvider.GetRequiredService<ConnectionService>();
        var draft = new ConnectionDraft(type, id, id, settings.ToDictionary(s => s.Key, s => JsonSerializer.SerializeToElement(s.Value)),
            new Dictionary<string, string>());
        Assert.NotNull(await connections.CreateAsync(draft, null, CancellationToken.None));
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

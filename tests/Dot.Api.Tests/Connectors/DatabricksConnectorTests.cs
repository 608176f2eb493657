using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>
/// The databricks connector against <see cref="DatabricksFake"/>, a loopback Unity Catalog REST API serving the
/// fixtures of Fixtures/databricks (paged, with a personal access token or an OAuth M2M token the fake issued), through
/// the real pipeline: create the connection, trigger the sync, wait for the run, read the catalogue.
/// </summary>
[Trait("Store", "any")]
public sealed class DatabricksConnectorTests
{
    private const string Pat = "dapi-Pat-Marker-4e5f6a7b8c9d";
    private const string ClientId = "8f3c1d2e-5b6a-4c7d-9e0f-1a2b3c4d5e6f";
    private const string ClientSecret = "dose-Client-Secret-Marker-1f2e3d";

    private static async Task<(DotApiFactory Factory, HttpClient Admin)> StartAsync()
    {
        var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        return (factory, admin);
    }

    [Fact]
    public async Task PersonalAccessTokenSyncsEveryCatalogPageByPage()
    {
        await using var fake = await new DatabricksFake(Pat).StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString() }, new { token = Pat });

        var run = await admin.SyncAsync("databricks", "lakehouse");
        var catalog = await admin.CatalogAsync("databricks", "lakehouse");

        var tables = catalog.Tables(withDatabase: true);
        var expected = DatabricksFake.FixtureTables();
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), tables.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, table) in expected)
        {
            var columns = tables[key].GetProperty("columns").EnumerateArray().ToList();
            var fixture = table["columns"]!.AsArray();
            Assert.Equal(fixture.Count, columns.Count);
            foreach (var (column, stored) in fixture.Zip(columns))
            {
                Assert.Equal((string?)column!["name"], stored.Str("name"));
                Assert.Equal((string?)column["type_text"], stored.Str("data_type"));
                Assert.Equal((bool)column["nullable"]!, stored.GetProperty("nullable").GetBoolean());
                Assert.Equal((int)column["position"]! + 1, stored.GetProperty("position").GetInt32());
                Assert.Equal((string?)column["comment"], stored.Str("description"));
            }

            Assert.Equal((string?)table["comment"], tables[key].Str("description"));
        }

        Assert.Equal("table", tables["main.sales.customers"].Str("kind"));
        Assert.Equal("table", tables["main.sales.orders"].Str("kind")); // EXTERNAL
        Assert.Equal("view", tables["main.sales.customer_orders"].Str("kind"));
        Assert.Equal("materialized_view", tables["main.sales.daily_revenue"].Str("kind"));
        Assert.Equal("table", tables["main.sales.clickstream"].Str("kind")); // STREAMING_TABLE
        Assert.Equal("foreign_table", tables["main.sales.crm_accounts"].Str("kind"));
        Assert.Equal("array<struct<sku:string,quantity:int>>", tables["main.sales.orders"].GetProperty("columns")[2].Str("data_type"));

        // Every schema but information_schema, empty ones too, with its catalog as the database and its comment.
        var schemas = catalog.GetProperty("schemas").EnumerateArray()
            .Select(s => $"{s.Str("database")}.{s.Str("name")}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["main.default", "main.sales", "samples.nyctaxi", "system.access"], schemas);
        Assert.Equal("Orders and customers", catalog.GetProperty("schemas").EnumerateArray().Single(s => s.Str("name") == "sales").Str("description"));
        Assert.Equal(4, run.GetProperty("schemas_count").GetInt32());
        Assert.Equal(expected.Count, run.GetProperty("tables_count").GetInt32());

        // Paged as documented: page tokens followed (an empty first page included), the bearer token on every request.
        Assert.Contains(fake.Requests, r => r.StartsWith("GET /api/2.1/unity-catalog/catalogs?max_results=0", StringComparison.Ordinal)
            && r.Contains("page_token=", StringComparison.Ordinal));
        Assert.Contains(fake.Requests, r => r.StartsWith("GET /api/2.1/unity-catalog/tables?catalog_name=main&schema_name=sales&max_results=50", StringComparison.Ordinal)
            && r.Contains("page_token=", StringComparison.Ordinal));
        Assert.All(fake.Authorizations, a => Assert.Equal($"Bearer {Pat}", a));
        Assert.DoesNotContain(Pat, factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OAuthMachineToMachineUsesTheTokenTheWorkspaceIssued()
    {
        await using var fake = await new DatabricksFake(null, ClientId, ClientSecret).StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse",
            new { host = fake.BaseAddress.ToString(), client_id = ClientId, catalogs = "samples" }, new { client_secret = ClientSecret });

        await admin.SyncAsync("databricks", "lakehouse");
        var tables = (await admin.CatalogAsync("databricks", "lakehouse")).Tables(withDatabase: true);

        Assert.Equal(["samples.nyctaxi.trips"], tables.Keys);
        var issued = Assert.Single(fake.IssuedTokens);
        Assert.All(fake.Authorizations, a => Assert.Equal($"Bearer {issued}", a));
        Assert.Equal("POST /oidc/v1/token", fake.Requests.First());
        Assert.DoesNotContain(ClientSecret, factory.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(issued, factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongClientSecretFailsNamingTheSettingAndTheSecret()
    {
        const string wrong = "dose-Wrong-Secret-Marker-9a8b";
        await using var fake = await new DatabricksFake(null, ClientId, ClientSecret).StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse",
            new { host = fake.BaseAddress.ToString(), client_id = ClientId }, new { client_secret = wrong });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("databricks", "lakehouse"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"{fake.BaseAddress}oidc/v1/token answered 401 (invalid_client): check the setting client_id and the secret client_secret "
            + "(a service principal's OAuth secret of this workspace's account)", run.Str("error"));
        Assert.Empty(fake.IssuedTokens);
        factory.AssertNoSecret(run, wrong);
    }

    [Fact]
    public async Task WrongPersonalAccessTokenFailsWithTheWorkspacesMessage()
    {
        const string wrong = "dapi-Wrong-Token-Marker-0c1d";
        await using var fake = await new DatabricksFake(Pat).StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString() }, new { token = wrong });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("databricks", "lakehouse"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"{fake.BaseAddress}api/2.1/unity-catalog/catalogs answered 401 (UNAUTHENTICATED: Invalid access token.): "
            + "check the secret token (a personal access token of this workspace that has not expired)", run.Str("error"));
        factory.AssertNoSecret(run, wrong, Pat);
        Assert.Equal(JsonValueKind.Null, (await admin.CatalogAsync("databricks", "lakehouse")).GetProperty("sync_id").ValueKind);
    }

    [Fact]
    public async Task MissingPrivilegeFailsNamingTheSchemaAndThePrivilege()
    {
        await using var fake = await new DatabricksFake(Pat) { DeniedSchema = ("main", "sales") }.StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString() }, new { token = Pat });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("databricks", "lakehouse"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"{fake.BaseAddress}api/2.1/unity-catalog/tables for catalog_name main, schema_name sales answered 403 "
            + "(PERMISSION_DENIED: User does not have USE SCHEMA on Schema 'main.sales'.): the principal lacks a privilege: it needs USE CATALOG "
            + "and USE SCHEMA (or BROWSE) on what it reads", run.Str("error"));
        factory.AssertNoSecret(run, Pat);
    }

    [Fact]
    public async Task RedirectIsNotFollowed()
    {
        await using var fake = await new DatabricksFake(Pat) { RedirectTo = "http://127.0.0.1:9/elsewhere" }.StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString() }, new { token = Pat });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("databricks", "lakehouse"));

        Assert.Equal($"{fake.BaseAddress}api/2.1/unity-catalog/catalogs redirects (answered 302): this server does not follow redirects; "
            + "configure the final URL in the connection", run.Str("error"));
        Assert.Single(fake.Requests);
    }

    /// <summary>An answer that is not Databricks' error object (a proxy's HTML page) is reported by its status alone.</summary>
    [Fact]
    public async Task ErrorBodyThatIsNotTheVendorsIsNotQuoted()
    {
        const string marker = "Proxy-Marker-5a6b7c";
        await using var fake = await new DatabricksFake(Pat) { HtmlErrorMarker = marker }.StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString() }, new { token = Pat });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("databricks", "lakehouse"));

        Assert.Equal($"{fake.BaseAddress}api/2.1/unity-catalog/catalogs answered 502", run.Str("error"));
        Assert.DoesNotContain(marker, factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCatalogInTheSettingFailsSayingSo()
    {
        await using var fake = await new DatabricksFake(Pat).StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString(), catalogs = "main, nope" }, new { token = Pat });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("databricks", "lakehouse"));

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith($"the databricks setting catalogs names 2 catalogs, but {fake.BaseAddress} shows 1 of them", run.Str("error"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableHostFailsWithTheOperatingSystemsReason()
    {
        await using var fake = await new DatabricksFake(Pat).StartAsync();
        var closed = fake.BaseAddress;
        await fake.DisposeAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = closed.ToString() }, new { token = Pat });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("databricks", "lakehouse"));

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith($"could not reach {closed}api/2.1/unity-catalog/catalogs: ", run.Str("error"), StringComparison.Ordinal);
        factory.AssertNoSecret(run, Pat);
    }

    [Fact]
    public async Task SlowWorkspaceTimesOutNamingTheSetting()
    {
        await using var fake = await new DatabricksFake(Pat) { Delay = TimeSpan.FromSeconds(30) }.StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString(), timeout_seconds = 1 }, new { token = Pat });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("databricks", "lakehouse"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"timed out after 1 s reading the Unity Catalog of {fake.BaseAddress} (timeout_seconds)", run.Str("error"));
        factory.AssertNoSecret(run, Pat);
    }

    [Fact]
    public async Task ConnectionDeletedMidRunStoresNothing()
    {
        await using var fake = await new DatabricksFake(Pat) { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) }.StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("databricks", "lakehouse", new { host = fake.BaseAddress.ToString() }, new { token = Pat });

        var syncId = await admin.TriggerSyncAsync("databricks", "lakehouse");
        await fake.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/connections/databricks/lakehouse")).StatusCode);
        fake.Gate!.SetResult();
        var run = await admin.WaitForRunAsync(syncId);

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal("the connection was deleted", run.Str("error"));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/connections/databricks/lakehouse/catalog")).StatusCode);
    }

    [Theory]
    [InlineData("client_secret", "dose-Setting-Marker", "settings.client_secret")]
    [InlineData("token", "dapi-Setting-Marker", "settings.token")]
    [InlineData("host", "https://dbc-1.cloud.databricks.com/?o=Setting-Marker", "settings.host")]
    public async Task SecretsAndCredentialUrlsAreRefusedAsSettings(string name, string value, string field)
    {
        var (factory, admin) = await StartAsync();
        await using var _ = factory;

        var response = await admin.PostAsJsonAsync("/api/connections",
            new { type = "databricks", id = "x", settings = new Dictionary<string, string> { [name] = value } });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains(field, body, StringComparison.Ordinal);
        Assert.DoesNotContain("Setting-Marker", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("none", "the databricks connection needs the secret token (a personal access token), or the setting client_id with the secret client_secret (a service principal's OAuth secret).")]
    [InlineData("both", "the databricks connection has both the secret token and OAuth settings (client_id, client_secret): give one of them.")]
    [InlineData("no-host", "the databricks setting host is required: the workspace URL, such as https://dbc-a1b2345c-d6e7.cloud.databricks.com")]
    public async Task SettingsThatCannotWorkFailTheRunSayingWhy(string kind, string error)
    {
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        object settings = kind switch
        {
            "no-host" => new { catalogs = "main" },
            "both" => new { host = "https://127.0.0.1:9", client_id = ClientId },
            _ => new { host = "https://127.0.0.1:9" },
        };
        object? secrets = kind switch
        {
            "both" => new { token = Pat, client_secret = ClientSecret },
            "no-host" => new { token = Pat },
            _ => null,
        };
        await admin.CreateConnectionAsync("databricks", "x", settings, secrets);

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("databricks", "x"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal(error, run.Str("error"));
    }
}

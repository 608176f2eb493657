using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Connectors.Tests;

/// <summary>
/// The databricks connector against <see cref="DatabricksFake"/>, a loopback Unity Catalog REST API serving the
/// fixtures of Fixtures/databricks (paged, with a personal access token or an OAuth M2M token the fake issued), driven
/// directly: a job with the connection's settings and secrets, the catalogue it returns. Through the server:
/// tests/Dot.Api.Tests, Sync/ConnectorSyncTests.cs.
/// </summary>
[Trait("Store", "any")]
public sealed class DatabricksConnectorTests
{
    private const string Pat = "dapi-Pat-Marker-4e5f6a7b8c9d";
    private const string ClientId = "8f3c1d2e-5b6a-4c7d-9e0f-1a2b3c4d5e6f";
    private const string ClientSecret = "dose-Client-Secret-Marker-1f2e3d";

    [Fact]
    public async Task PersonalAccessTokenSyncsEveryCatalogPageByPage()
    {
        await using var fake = await new DatabricksFake(Pat).StartAsync();
        using var host = new ConnectorHost();

        var outcome = await host.SyncAsync("databricks", new { host = fake.BaseAddress.ToString() }, new { token = Pat });
        var catalog = ConnectorHost.Json(outcome.Catalog);

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
        Assert.Equal(4, outcome.SchemasCount);
        Assert.Equal(expected.Count, outcome.TablesCount);

        // Paged as documented: page tokens followed (an empty first page included), the bearer token on every request.
        Assert.Contains(fake.Requests, r => r.StartsWith("GET /api/2.1/unity-catalog/catalogs?max_results=0", StringComparison.Ordinal)
            && r.Contains("page_token=", StringComparison.Ordinal));
        Assert.Contains(fake.Requests, r => r.StartsWith("GET /api/2.1/unity-catalog/tables?catalog_name=main&schema_name=sales&max_results=50", StringComparison.Ordinal)
            && r.Contains("page_token=", StringComparison.Ordinal));
        Assert.All(fake.Authorizations, a => Assert.Equal($"Bearer {Pat}", a));
        Assert.DoesNotContain(Pat, host.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OAuthMachineToMachineUsesTheTokenTheWorkspaceIssued()
    {
        await using var fake = await new DatabricksFake(null, ClientId, ClientSecret).StartAsync();
        using var host = new ConnectorHost();

        var outcome = await host.SyncAsync("databricks", new { host = fake.BaseAddress.ToString(), client_id = ClientId, catalogs = "samples" },
            new { client_secret = ClientSecret });
        var tables = ConnectorHost.Json(outcome.Catalog).Tables(withDatabase: true);

        Assert.Equal(["samples.nyctaxi.trips"], tables.Keys);
        var issued = Assert.Single(fake.IssuedTokens);
        Assert.All(fake.Authorizations, a => Assert.Equal($"Bearer {issued}", a));
        Assert.Equal("POST /oidc/v1/token", fake.Requests.First());
        Assert.DoesNotContain(ClientSecret, host.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(issued, host.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongClientSecretFailsNamingTheSettingAndTheSecret()
    {
        const string wrong = "dose-Wrong-Secret-Marker-9a8b";
        await using var fake = await new DatabricksFake(null, ClientId, ClientSecret).StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("databricks", new { host = fake.BaseAddress.ToString(), client_id = ClientId }, new { client_secret = wrong });

        Assert.Equal($"{fake.BaseAddress}oidc/v1/token answered 401 (invalid_client): check the setting client_id and the secret client_secret "
            + "(a service principal's OAuth secret of this workspace's account)", error);
        Assert.Empty(fake.IssuedTokens);
        host.AssertNoSecret(error, wrong);
    }

    [Fact]
    public async Task WrongPersonalAccessTokenFailsWithTheWorkspacesMessage()
    {
        const string wrong = "dapi-Wrong-Token-Marker-0c1d";
        await using var fake = await new DatabricksFake(Pat).StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("databricks", new { host = fake.BaseAddress.ToString() }, new { token = wrong });

        Assert.Equal($"{fake.BaseAddress}api/2.1/unity-catalog/catalogs answered 401 (UNAUTHENTICATED: Invalid access token.): "
            + "check the secret token (a personal access token of this workspace that has not expired)", error);
        host.AssertNoSecret(error, wrong, Pat);
    }

    [Fact]
    public async Task MissingPrivilegeFailsNamingTheSchemaAndThePrivilege()
    {
        await using var fake = await new DatabricksFake(Pat) { DeniedSchema = ("main", "sales") }.StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("databricks", new { host = fake.BaseAddress.ToString() }, new { token = Pat });

        Assert.Equal($"{fake.BaseAddress}api/2.1/unity-catalog/tables for catalog_name main, schema_name sales answered 403 "
            + "(PERMISSION_DENIED: User does not have USE SCHEMA on Schema 'main.sales'.): the principal lacks a privilege: it needs USE CATALOG "
            + "and USE SCHEMA (or BROWSE) on what it reads", error);
        host.AssertNoSecret(error, Pat);
    }

    [Fact]
    public async Task RedirectIsNotFollowed()
    {
        await using var fake = await new DatabricksFake(Pat) { RedirectTo = "http://127.0.0.1:9/elsewhere" }.StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("databricks", new { host = fake.BaseAddress.ToString() }, new { token = Pat });

        Assert.Equal($"{fake.BaseAddress}api/2.1/unity-catalog/catalogs redirects (answered 302): this server does not follow redirects; "
            + "configure the final URL in the connection", error);
        Assert.Single(fake.Requests);
    }

    /// <summary>An answer that is not Databricks' error object (a proxy's HTML page) is reported by its status alone.</summary>
    [Fact]
    public async Task ErrorBodyThatIsNotTheVendorsIsNotQuoted()
    {
        const string marker = "Proxy-Marker-5a6b7c";
        await using var fake = await new DatabricksFake(Pat) { HtmlErrorMarker = marker }.StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("databricks", new { host = fake.BaseAddress.ToString() }, new { token = Pat });

        Assert.Equal($"{fake.BaseAddress}api/2.1/unity-catalog/catalogs answered 502", error);
        Assert.DoesNotContain(marker, host.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCatalogInTheSettingFailsSayingSo()
    {
        await using var fake = await new DatabricksFake(Pat).StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("databricks", new { host = fake.BaseAddress.ToString(), catalogs = "main, nope" }, new { token = Pat });

        Assert.StartsWith($"the databricks setting catalogs names 2 catalogs, but {fake.BaseAddress} shows 1 of them", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableHostFailsWithTheOperatingSystemsReason()
    {
        await using var fake = await new DatabricksFake(Pat).StartAsync();
        var closed = fake.BaseAddress;
        await fake.DisposeAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("databricks", new { host = closed.ToString() }, new { token = Pat });

        Assert.StartsWith($"could not reach {closed}api/2.1/unity-catalog/catalogs: ", error, StringComparison.Ordinal);
        host.AssertNoSecret(error, Pat);
    }

    [Fact]
    public async Task SlowWorkspaceTimesOutNamingTheSetting()
    {
        await using var fake = await new DatabricksFake(Pat) { Delay = TimeSpan.FromSeconds(30) }.StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("databricks", new { host = fake.BaseAddress.ToString(), timeout_seconds = 1 }, new { token = Pat });

        Assert.Equal($"timed out after 1 s reading the Unity Catalog of {fake.BaseAddress} (timeout_seconds)", error);
        host.AssertNoSecret(error, Pat);
    }

    [Theory]
    [InlineData("none", "the databricks connection needs the secret token (a personal access token), or the setting client_id with the secret client_secret (a service principal's OAuth secret).")]
    [InlineData("both", "the databricks connection has both the secret token and OAuth settings (client_id, client_secret): give one of them.")]
    [InlineData("no-host", "the databricks setting host is required: the workspace URL, such as https://dbc-a1b2345c-d6e7.cloud.databricks.com")]
    public async Task SettingsThatCannotWorkFailTheRunSayingWhy(string kind, string error)
    {
        using var host = new ConnectorHost();
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

        Assert.Equal(error, await host.FailAsync("databricks", settings, secrets));
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>
/// The looker connector against <see cref="LookerFake"/>, a loopback Looker API 4.0 serving the fixtures of
/// Fixtures/looker (login with an API key, a token the fake issued, limit/offset paging, logout), through the real
/// pipeline: explores into the catalogue, dashboards and Looks into the external assets, in the run's transaction.
/// </summary>
[Trait("Store", "any")]
public sealed class LookerConnectorTests
{
    private const string ClientId = "Kq7dJ3mXyZp2Vb9Rt4Lw";
    private const string ClientSecret = "Looker-Secret-Marker-6c5d4e3f2a1b";

    private static async Task<(DotApiFactory Factory, HttpClient Admin)> StartAsync()
    {
        var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        return (factory, admin);
    }

    private static Dictionary<string, object> Settings(LookerFake fake, object? extra = null)
    {
        var settings = new Dictionary<string, object> { ["base_url"] = fake.BaseAddress.ToString(), ["client_id"] = ClientId, ["page_size"] = 2 };
        if (extra is not null)
        {
            foreach (var property in JsonSerializer.SerializeToElement(extra).EnumerateObject())
            {
                settings[property.Name] = property.Value;
            }
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
    public async Task ExploresBecomeTheCatalogueAndDashboardsAndLooksBecomeAssets()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret).StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("looker", "bi", Settings(fake), new { client_secret = ClientSecret });

        var run = await admin.SyncAsync("looker", "bi");
        var catalog = await admin.CatalogAsync("looker", "bi");

        // Project → database, model → schema (its label the description), explore → table of kind explore; hidden ones left out.
        var tables = catalog.Tables(withDatabase: true);
        Assert.Equal(["ecommerce.thelook.order_items", "ecommerce.thelook.users", "finance.finance.revenue"], tables.Keys.Order(StringComparer.Ordinal));
        Assert.All(tables.Values, t => Assert.Equal("explore", t.Str("kind")));
        var schemas = catalog.GetProperty("schemas").EnumerateArray().ToDictionary(s => s.Str("name")!, StringComparer.Ordinal);
        Assert.Equal(["finance", "scratch", "thelook"], schemas.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("The Look", schemas["thelook"].Str("description"));

        // Fields: dimensions then measures in declaration order, hidden ones left out; type = the LookML type; description or label.
        foreach (var key in tables.Keys)
        {
            var file = key[(key.IndexOf('.', StringComparison.Ordinal) + 1)..];
            var fixture = LookerFake.Load(Path.Combine("explores", file + ".json"));
            var fields = fixture["fields"]!["dimensions"]!.AsArray().Concat(fixture["fields"]!["measures"]!.AsArray())
                .Where(f => !(bool)f!["hidden"]!).ToList();
            var columns = tables[key].GetProperty("columns").EnumerateArray().ToList();
            Assert.Equal(fields.Select(f => (string?)f!["name"]), columns.Select(c => c.Str("name")));
            Assert.Equal(fields.Select(f => (string?)f!["type"]), columns.Select(c => c.Str("data_type")));
            Assert.Equal(fields.Select(f => (string?)f!["description"] ?? (string?)f!["label"]), columns.Select(c => c.Str("description")));
            Assert.Equal(Enumerable.Range(1, fields.Count), columns.Select(c => c.GetProperty("position").GetInt32()));
            Assert.All(columns, c => Assert.Equal(JsonValueKind.Null, c.GetProperty("nullable").ValueKind));
            Assert.Equal((string?)fixture["description"] ?? (string?)fixture["label"], tables[key].Str("description"));
        }

        Assert.DoesNotContain(tables["ecommerce.thelook.order_items"].GetProperty("columns").EnumerateArray(),
            c => c.Str("name") == "order_items.inventory_item_id");
        Assert.Equal(3, run.GetProperty("tables_count").GetInt32());

        // Dashboards and Looks, imported as the import endpoint would, with ids that name the connection.
        var assets = (await AssetsAsync(admin)).ToDictionary(a => a.Str("id")!, StringComparer.Ordinal);
        Assert.Equal(["looker/bi/dashboards/42", "looker/bi/dashboards/43", "looker/bi/dashboards/51", "looker/bi/looks/12", "looker/bi/looks/19"],
            assets.Keys.Order(StringComparer.Ordinal));
        var revenue = assets["looker/bi/dashboards/42"];
        Assert.Equal(("dashboard", "Finance", "Revenue", "Monthly revenue by region"), (revenue.Str("subtype"), revenue.Str("folder"), revenue.Str("name"), revenue.Str("description")));
        Assert.Equal($"{fake.BaseAddress}dashboards/42", revenue.Str("url"));
        Assert.Equal(17, revenue.GetProperty("view_count").GetInt64());
        Assert.Equal(new DateTime(2026, 11, 30, 9, 15, 0, DateTimeKind.Utc), revenue.GetProperty("last_accessed_at").GetDateTime().ToUniversalTime());
        Assert.True(revenue.GetProperty("active").GetBoolean());
        var look = assets["looker/bi/looks/19"];
        Assert.Equal(("look", "Shared", "Churn by cohort", $"{fake.BaseAddress}looks/19"), (look.Str("subtype"), look.Str("folder"), look.Str("name"), look.Str("url")));
        Assert.Equal(JsonValueKind.Null, look.GetProperty("last_accessed_at").ValueKind);

        // The wire: login with a form body, then "Authorization: token …" (the token the fake issued), pages of 2, logout.
        Assert.Equal("POST /api/4.0/login", fake.Requests.First());
        Assert.Contains("GET /api/4.0/dashboards/search?deleted=false&fields=id%2Ctitle%2Cdescription%2Cfolder%28name%29%2Cview_count%2Clast_accessed_at&limit=2&offset=2",
            fake.Requests);
        Assert.Contains("GET /api/4.0/lookml_models?fields=name%2Clabel%2Cproject_name%2Cexplores%28name%2Chidden%29&limit=2&offset=2", fake.Requests);
        Assert.Equal("DELETE /api/4.0/logout", fake.Requests.Last());
        Assert.All(fake.Authorizations, a => Assert.Matches("^token [A-Za-z0-9=]{40}$", a));
        Assert.Equal((1, 1, 0), (fake.Logins, fake.Logouts, fake.LiveTokens));
        Assert.DoesNotContain(ClientSecret, factory.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(fake.Authorizations.First()["token ".Length..], factory.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>A second sync overwrites the assets it imported (the import's upsert); one gone from Looker is kept.</summary>
    [Fact]
    public async Task NextSyncOverwritesAssetsAndKeepsOnesGoneFromLooker()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret).StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("looker", "bi", Settings(fake, new { web_url = "https://looker.example.com" }), new { client_secret = ClientSecret });
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

    [Fact]
    public async Task WrongClientSecretFailsNamingTheSettingAndTheSecret()
    {
        const string wrong = "Looker-Wrong-Secret-Marker-2b3c";
        await using var fake = await new LookerFake(ClientId, ClientSecret).StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("looker", "bi", Settings(fake), new { client_secret = wrong });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("looker", "bi"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"{fake.BaseAddress}api/4.0/login answered 404 (Not found): check the setting client_id and the secret client_secret (a Looker API key)",
            run.Str("error"));
        factory.AssertNoSecret(run, wrong, ClientSecret);
        Assert.DoesNotContain(fake.Requests, r => r.Contains("client_secret", StringComparison.Ordinal));
    }

    /// <summary>A failure after the catalogue was read stores neither it nor any asset, and still logs out.</summary>
    [Fact]
    public async Task FailureStoresNeitherCatalogueNorAssetsAndLogsOut()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret) { BrokenPath = "looks/search" }.StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("looker", "bi", Settings(fake), new { client_secret = ClientSecret });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("looker", "bi"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"{fake.BaseAddress}api/4.0/looks/search answered 500 (An error has occurred.)", run.Str("error"));
        Assert.Empty(await AssetsAsync(admin));
        Assert.Equal(JsonValueKind.Null, (await admin.CatalogAsync("looker", "bi")).GetProperty("sync_id").ValueKind);
        Assert.Equal((1, 0), (fake.Logouts, fake.LiveTokens));
        factory.AssertNoSecret(run, ClientSecret);
    }

    [Fact]
    public async Task UnreachableInstanceFailsWithTheOperatingSystemsReason()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret).StartAsync();
        var closed = fake.BaseAddress;
        await fake.DisposeAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("looker", "bi", new { base_url = closed.ToString(), client_id = ClientId }, new { client_secret = ClientSecret });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("looker", "bi"));

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith($"could not reach {closed}api/4.0/login: ", run.Str("error"), StringComparison.Ordinal);
        factory.AssertNoSecret(run, ClientSecret);
    }

    [Fact]
    public async Task SlowInstanceTimesOutNamingTheSettingAndLogsOut()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret) { Delay = TimeSpan.FromSeconds(30) }.StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("looker", "bi", Settings(fake, new { timeout_seconds = 1 }), new { client_secret = ClientSecret });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("looker", "bi"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"timed out after 1 s reading {fake.BaseAddress} (timeout_seconds)", run.Str("error"));
        Assert.Equal(1, fake.Logouts); // the logout has its own deadline
        factory.AssertNoSecret(run, ClientSecret);
    }

    [Fact]
    public async Task ConnectionDeletedMidRunStoresNoAssets()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret) { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) }.StartAsync();
        var (factory, admin) = await StartAsync();
        await using var _ = factory;
        await admin.CreateConnectionAsync("looker", "bi", Settings(fake), new { client_secret = ClientSecret });

        var syncId = await admin.TriggerSyncAsync("looker", "bi");
        await fake.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/connections/looker/bi")).StatusCode);
        fake.Gate!.SetResult();
        var run = await admin.WaitForRunAsync(syncId);
        await WaitForLogoutAsync(fake);

        Assert.Equal("the connection was deleted", run.Str("error"));
        Assert.Empty(await AssetsAsync(admin));
    }

    /// <summary>The run's connector finishes after the deletion (its outcome discarded); its logout marks the end.</summary>
    private static async Task WaitForLogoutAsync(LookerFake fake)
    {
        await Eventually.TrueAsync(() => fake.Logouts > 0, TimeSpan.FromSeconds(30), "the connector never logged out");
    }

    [Fact]
    public async Task ClientSecretIsRefusedAsASetting()
    {
        var (factory, admin) = await StartAsync();
        await using var _ = factory;

        var response = await admin.PostAsJsonAsync("/api/connections", new
        {
            type = "looker",
            id = "x",
            settings = new { base_url = "https://company.looker.com", client_id = ClientId, client_secret = "Setting-Marker-7d" },
        });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("settings.client_secret", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Setting-Marker-7d", body, StringComparison.Ordinal);
    }
}

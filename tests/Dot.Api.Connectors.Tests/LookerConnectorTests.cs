using System.Text.Json;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Connectors.Tests;

/// <summary>
/// The looker connector against <see cref="LookerFake"/>, a loopback Looker API 4.0 serving the fixtures of
/// Fixtures/looker (login with an API key, a token the fake issued, limit/offset paging, logout), driven directly:
/// explores into the catalogue, dashboards and Looks into the outcome's external assets. That the worker imports them
/// in the run's transaction, and overwrites them on the next sync: tests/Dot.Api.Tests, Sync/ConnectorSyncTests.cs.
/// </summary>
[Trait("Store", "any")]
public sealed class LookerConnectorTests
{
    private const string ClientId = "Kq7dJ3mXyZp2Vb9Rt4Lw";
    private const string ClientSecret = "Looker-Secret-Marker-6c5d4e3f2a1b";

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

    [Fact]
    public async Task ExploresBecomeTheCatalogueAndDashboardsAndLooksBecomeAssets()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret).StartAsync();
        using var host = new ConnectorHost();

        var outcome = await host.SyncAsync("looker", Settings(fake), new { client_secret = ClientSecret }, id: "bi");
        var catalog = ConnectorHost.Json(outcome.Catalog);

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
        Assert.Equal(3, outcome.TablesCount);

        // Dashboards and Looks, checked as the import endpoint checks a client's, with ids that name the connection.
        var assets = outcome.ExternalAssets!.ToDictionary(a => a.Id, StringComparer.Ordinal);
        Assert.Equal(["looker/bi/dashboards/42", "looker/bi/dashboards/43", "looker/bi/dashboards/51", "looker/bi/looks/12", "looker/bi/looks/19"],
            assets.Keys.Order(StringComparer.Ordinal));
        var revenue = assets["looker/bi/dashboards/42"];
        Assert.Equal(("dashboard", "Finance", "Revenue", "Monthly revenue by region"), (revenue.Subtype, revenue.Folder, revenue.Name, revenue.Description));
        Assert.Equal($"{fake.BaseAddress}dashboards/42", revenue.Url);
        Assert.Equal(17, revenue.ViewCount);
        Assert.Equal(new DateTime(2026, 11, 30, 9, 15, 0, DateTimeKind.Utc), revenue.LastAccessedAt);
        Assert.Equal(DateTimeKind.Utc, revenue.LastAccessedAt!.Value.Kind);
        Assert.True(revenue.Active);
        var look = assets["looker/bi/looks/19"];
        Assert.Equal(("look", "Shared", "Churn by cohort", $"{fake.BaseAddress}looks/19"), (look.Subtype, look.Folder, look.Name, look.Url));
        Assert.Null(look.LastAccessedAt);

        // The wire: login with a form body, then "Authorization: token …" (the token the fake issued), pages of 2, logout.
        Assert.Equal("POST /api/4.0/login", fake.Requests.First());
        Assert.Contains("GET /api/4.0/dashboards/search?deleted=false&fields=id%2Ctitle%2Cdescription%2Cfolder%28name%29%2Cview_count%2Clast_accessed_at&limit=2&offset=2",
            fake.Requests);
        Assert.Contains("GET /api/4.0/lookml_models?fields=name%2Clabel%2Cproject_name%2Cexplores%28name%2Chidden%29&limit=2&offset=2", fake.Requests);
        Assert.Equal("DELETE /api/4.0/logout", fake.Requests.Last());
        Assert.All(fake.Authorizations, a => Assert.Matches("^token [A-Za-z0-9=]{40}$", a));
        Assert.Equal((1, 1, 0), (fake.Logins, fake.Logouts, fake.LiveTokens));
        Assert.DoesNotContain(ClientSecret, host.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(fake.Authorizations.First()["token ".Length..], host.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>web_url, when set, is the root of the assets' links (the API may answer on another host or port).</summary>
    [Fact]
    public async Task WebUrlIsTheRootOfTheAssetsLinks()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret).StartAsync();
        using var host = new ConnectorHost();

        var outcome = await host.SyncAsync("looker", Settings(fake, new { web_url = "https://looker.example.com" }), new { client_secret = ClientSecret }, id: "bi");

        Assert.Equal("https://looker.example.com/dashboards/42", outcome.ExternalAssets!.Single(a => a.Id == "looker/bi/dashboards/42").Url);
    }

    [Fact]
    public async Task WrongClientSecretFailsNamingTheSettingAndTheSecret()
    {
        const string wrong = "Looker-Wrong-Secret-Marker-2b3c";
        await using var fake = await new LookerFake(ClientId, ClientSecret).StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("looker", Settings(fake), new { client_secret = wrong });

        Assert.Equal($"{fake.BaseAddress}api/4.0/login answered 404 (Not found): check the setting client_id and the secret client_secret (a Looker API key)",
            error);
        host.AssertNoSecret(error, wrong, ClientSecret);
        Assert.DoesNotContain(fake.Requests, r => r.Contains("client_secret", StringComparison.Ordinal));
    }

    /// <summary>A failure after the catalogue was read fails the run, and still logs out.</summary>
    [Fact]
    public async Task FailureAfterTheCatalogueFailsTheRunAndLogsOut()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret) { BrokenPath = "looks/search" }.StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("looker", Settings(fake), new { client_secret = ClientSecret });

        Assert.Equal($"{fake.BaseAddress}api/4.0/looks/search answered 500 (An error has occurred.)", error);
        Assert.Equal((1, 0), (fake.Logouts, fake.LiveTokens));
        host.AssertNoSecret(error, ClientSecret);
    }

    [Fact]
    public async Task UnreachableInstanceFailsWithTheOperatingSystemsReason()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret).StartAsync();
        var closed = fake.BaseAddress;
        await fake.DisposeAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("looker", new { base_url = closed.ToString(), client_id = ClientId }, new { client_secret = ClientSecret });

        Assert.StartsWith($"could not reach {closed}api/4.0/login: ", error, StringComparison.Ordinal);
        host.AssertNoSecret(error, ClientSecret);
    }

    [Fact]
    public async Task SlowInstanceTimesOutNamingTheSettingAndLogsOut()
    {
        await using var fake = await new LookerFake(ClientId, ClientSecret) { Delay = TimeSpan.FromSeconds(30) }.StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("looker", Settings(fake, new { timeout_seconds = 1 }), new { client_secret = ClientSecret });

        Assert.Equal($"timed out after 1 s reading {fake.BaseAddress} (timeout_seconds)", error);
        Assert.Equal(1, fake.Logouts); // the logout has its own deadline
        host.AssertNoSecret(error, ClientSecret);
    }
}

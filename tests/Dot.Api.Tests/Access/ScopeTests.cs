// Literal arrays of scopes read best where they are used: a test, not a hot path.
#pragma warning disable CA1861
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Infrastructure;
using Dot.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dot.Api.Tests;

/// <summary>API.md §2–3: a token's scopes narrow its owner's role, on every route, declared where the route is mapped.</summary>
public sealed class ScopeTests
{
    private static readonly string[] Everything = [.. Scopes.Known];

    /// <summary>
    /// Every <c>/api</c> route from the endpoint data source (none can be forgotten): a token holding every scope but the
    /// route's is refused 403 <c>insufficient_scope</c> naming it; a token holding only that scope gets through (2xx).
    /// </summary>
    [Fact]
    public async Task EveryApiRouteNeedsItsScope()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (admin, _, client) = await factory.CreateCallerAsync("root@example.com", Role.Admin);
        var other = await factory.CreateUserAsync("other@example.com");
        var doomed = await factory.CreateUserAsync("doomed@example.com");
        var (_, revokeId) = await factory.CreateTokenAsync(admin.Id, "revoke me");
        var (_, rotateId) = await factory.CreateTokenAsync(admin.Id, "rotate me", scopes: [Scopes.Tokens]); // a token rotates only what lies within it (API.md §2)
        var chat = await client.CreateChatAsync();
        await client.CreateConnectionAsync("dbt", "project", new { manifest_path = ManifestFacts.FixturePath("jaffle_shop-v9.manifest.json") });
        await client.CreateConnectionAsync("postgres", "doomed", new { host = "db.example.com" });
        var run = await client.TriggerSyncAsync("dbt", "project");
        await client.WaitForRunAsync(run); // the catalogue exists
        await client.PostAsJsonAsync("/api/import_and_overwrite_external_asset", new { external_asset = new { id = "doomed", name = "Doomed" } });

        var json = factory.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/", StringComparison.Ordinal)
                && e.Metadata.GetMetadata<RequiredRoleMetadata>() is not null)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (Method: m, Endpoint: e)))
            .OrderBy(r => r.Method == "DELETE") // deletes last: the other routes use what they would delete
            .ToList();
        Assert.True(endpoints.Count >= 25, $"only {endpoints.Count} routes found");

        var values = new Dictionary<string, string>
        {
            ["chat_id"] = chat.ToString(),
            ["connection_type"] = "dbt",
            ["connection_id"] = "project",
            ["sync_id"] = run.ToString(),
        };
        var checkedRoutes = new List<string>();
        foreach (var (method, endpoint) in endpoints)
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var name = $"{method} {pattern}";
            var required = endpoint.Metadata.GetMetadata<RequiredScopeMetadata>();
            Assert.True(required is not null, $"{name} declares no scope (.RequireScope where it is mapped)");
            var url = pattern
                .Replace("{id:guid}/rotate", rotateId + "/rotate", StringComparison.Ordinal)
                .Replace("/api/tokens/{id:guid}", "/api/tokens/" + revokeId, StringComparison.Ordinal)
                .Replace("/api/users/{id:guid}", "/api/users/" + (method == "DELETE" ? doomed.Id : other.Id), StringComparison.Ordinal)
                .Replace("/api/connections/{type}/{id}", method == "DELETE" ? "/api/connections/postgres/doomed" : "/api/connections/dbt/project", StringComparison.Ordinal)
                .Replace("/api/external_assets/{*id}", "/api/external_assets/doomed", StringComparison.Ordinal);
            foreach (var (key, value) in values)
            {
                url = url.Replace("{" + key + "}", value, StringComparison.Ordinal).Replace("{" + key + ":guid}", value, StringComparison.Ordinal);
            }

            Assert.DoesNotContain("{", url, StringComparison.Ordinal);
            var body = endpoint.Metadata.GetMetadata<ExampleBodyMetadata>() is { } example
                ? JsonSerializer.Serialize(example.Value, example.Value.GetType(), json)
                : null;
            if (body is not null && System.Text.Json.Nodes.JsonNode.Parse(body) is System.Text.Json.Nodes.JsonObject fields && fields.ContainsKey("chat_id"))
            {
                fields["chat_id"] = chat.ToString(); // the example's chat does not exist here
                body = fields.ToJsonString();
            }

            if (body is not null && System.Text.Json.Nodes.JsonNode.Parse(body) is System.Text.Json.Nodes.JsonObject withPassword && withPassword.Remove("password"))
            {
                body = withPassword.ToJsonString(); // a password is an unscoped credential: no scoped token sets one (API.md §2)
            }
            var needed = required.Narrow is not null ? Scopes.SyncOf("dbt", "project") : required.Scope;
            var broad = required.Scope;

            // Every scope but the route's (and for sync, no sync:… of this connection either); every token has profile.
            if (broad == Scopes.Profile)
            {
                var (chatsOnly, _) = await factory.CreateTokenAsync(admin.Id, "chats only", scopes: [Scopes.Chats]);
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(factory, chatsOnly, method, url, body)).StatusCode);
                checkedRoutes.Add(name);
                continue;
            }

            var (without, _) = await factory.CreateTokenAsync(admin.Id, "without " + name, scopes: [.. Everything.Where(s => s != broad), Scopes.SyncOf("dbt", "other")]);
            var refused = await SendAsync(factory, without, method, url, body);
            Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, $"{name} without '{broad}': {(int)refused.StatusCode} {await refused.Content.ReadAsStringAsync()}");
            var problem = await refused.JsonAsync();
            Assert.Equal("insufficient_scope", problem.GetProperty("reason").GetString());

            // A narrow scope read from stored data (a run's connection) is not named to a token it does not cover.
            var named = required.HiddenRefusal is null ? needed : broad;
            Assert.Equal(named, problem.GetProperty("required_scope").GetString());
            Assert.Contains(named, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

            // Only the route's scope (creating a token: and the scopes the example asks for, as it may ask for no more than it has).
            string[] with = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == "CreateToken" ? [broad, Scopes.Sync, Scopes.Assets] : [needed];
            var (holder, _) = await factory.CreateTokenAsync(admin.Id, "with " + name, scopes: with);
            var admitted = await SendAsync(factory, holder, method, url, body);
            Assert.True((int)admitted.StatusCode is >= 200 and < 300, $"{name} with '{needed}': {(int)admitted.StatusCode} {await admitted.Content.ReadAsStringAsync()}");
            checkedRoutes.Add(name);
        }

        Assert.Contains("GET /api/auth/me", checkedRoutes);
        Assert.Contains("POST /api/sync/{connection_type}/{connection_id}", checkedRoutes);
    }

    private static async Task<HttpResponseMessage> SendAsync(DotApiFactory factory, string token, string method, string url, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        request.Headers.Add("API-KEY", token);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return await factory.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task AConnectionScopeTriggersAndReadsOnlyThatConnection()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Sync:WorkerEnabled", "false").WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (admin, _, client) = await factory.CreateCallerAsync("root@example.com", Role.Admin);
        await client.CreateConnectionAsync("dbt", "a", new { manifest_path = ManifestFacts.FixturePath("jaffle_shop-v9.manifest.json") });
        await client.CreateConnectionAsync("dbt", "b", new { manifest_path = ManifestFacts.FixturePath("jaffle_shop-v9.manifest.json") });
        var runOfB = await client.TriggerSyncAsync("dbt", "b");
        var (token, _) = await factory.CreateTokenAsync(admin.Id, "webhook", scopes: ["sync:dbt/a"]);
        var narrow = factory.ClientWith(token);

        var runOfA = await narrow.TriggerSyncAsync("dbt", "a");
        Assert.Equal(HttpStatusCode.OK, (await narrow.GetAsync($"/api/sync/runs/{runOfA}")).StatusCode);

        var other = await narrow.PostAsync("/api/sync/dbt/b", null);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Equal("sync:dbt/b", (await other.JsonAsync()).GetProperty("required_scope").GetString());
        var read = await narrow.GetAsync($"/api/sync/runs/{runOfB}");
        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        Assert.Equal("sync", (await read.JsonAsync()).GetProperty("required_scope").GetString()); // not the run's connection

        // In the URL, as a dbt Cloud webhook sends it, the same.
        var anonymous = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Accepted, (await anonymous.PostAsync($"/api/sync/dbt/a?user_id=root%40example.com&api_token={token}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.PostAsync($"/api/sync/dbt/b?user_id=root%40example.com&api_token={token}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await narrow.GetAsync("/api/connections")).StatusCode);
    }

    /// <summary>
    /// A token scoped to one connection, refused another connection's run, learns neither that connection nor whether
    /// the run exists: the answer is the one a made-up run id gets.
    /// </summary>
    [Fact]
    public async Task ARefusedRunReadDoesNotNameTheRunsConnection()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Sync:WorkerEnabled", "false").WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (admin, _, client) = await factory.CreateCallerAsync("root@example.com", Role.Admin);
        await client.CreateConnectionAsync("dbt", "a", new { manifest_path = ManifestFacts.FixturePath("jaffle_shop-v9.manifest.json") });
        await client.CreateConnectionAsync("postgres", "finance-ledger", new { host = "db.example.com" }, new { password = "p" });
        var hidden = await client.TriggerSyncAsync("postgres", "finance-ledger");
        var (token, _) = await factory.CreateTokenAsync(admin.Id, "webhook", scopes: ["sync:dbt/a"]);
        var narrow = factory.ClientWith(token);

        var refused = await narrow.GetAsync($"/api/sync/runs/{hidden}");
        var madeUp = await narrow.GetAsync($"/api/sync/runs/{Guid.CreateVersion7()}");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var body = await refused.Content.ReadAsStringAsync();
        Assert.DoesNotContain("finance-ledger", body, StringComparison.Ordinal);
        Assert.DoesNotContain("sync:postgres", body, StringComparison.Ordinal);
        var problem = await refused.JsonAsync();
        Assert.Equal("insufficient_scope", problem.GetProperty("reason").GetString());
        Assert.Equal("sync", problem.GetProperty("required_scope").GetString());
        Assert.Contains("do not cover that sync run", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Forbidden, madeUp.StatusCode);
        var other = await madeUp.JsonAsync();
        foreach (var field in new[] { "title", "detail", "reason", "required_scope" })
        {
            Assert.Equal(problem.GetProperty(field).GetString(), other.GetProperty(field).GetString());
        }

        // The admin's own unscoped token still reads it.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/sync/runs/{hidden}")).StatusCode);
    }

    [Fact]
    public async Task TheRoleStillBoundsAScopedToken()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("u@example.com");
        var (token, _) = await factory.CreateTokenAsync(user.Id, scopes: [Scopes.Users]);
        var response = await factory.ClientWith(token).GetAsync("/api/users");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("insufficient_role", (await response.JsonAsync()).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task ATokenMintsNoTokenBroaderThanItself()
    {
        await using var factory = new DotApiFactory().WithRemoteAddress("10.1.2.3");
        var user = await factory.CreateUserAsync("u@example.com", Role.Admin);
        var (token, _) = await factory.CreateTokenAsync(user.Id, scopes: [Scopes.Tokens, Scopes.Sync], allowedIps: ["10.0.0.0/8"]);
        var client = factory.ClientWith(token);

        var broader = await client.PostAsJsonAsync("/api/tokens", new { name = "b", scopes = new[] { "tokens", "users" }, allowed_ips = new[] { "10.0.0.0/8" } });
        Assert.Equal(HttpStatusCode.Forbidden, broader.StatusCode);
        var problem = await broader.JsonAsync();
        Assert.Equal("insufficient_scope", problem.GetProperty("reason").GetString());
        Assert.Equal("users", problem.GetProperty("required_scope").GetString());

        var unscoped = await client.PostAsJsonAsync("/api/tokens", new { name = "u", allowed_ips = new[] { "10.0.0.0/8" } });
        Assert.Equal(HttpStatusCode.Forbidden, unscoped.StatusCode);
        Assert.Equal("*", (await unscoped.JsonAsync()).GetProperty("required_scope").GetString());

        var anywhere = await client.PostAsJsonAsync("/api/tokens", new { name = "a", scopes = new[] { "sync" } });
        Assert.Equal(HttpStatusCode.Forbidden, anywhere.StatusCode);
        Assert.Equal("ip_not_allowed", (await anywhere.JsonAsync()).GetProperty("reason").GetString());
        var wider = await client.PostAsJsonAsync("/api/tokens", new { name = "w", scopes = new[] { "sync" }, allowed_ips = new[] { "0.0.0.0/0" } });
        Assert.Equal(HttpStatusCode.Forbidden, wider.StatusCode);

        var within = await client.PostAsJsonAsync("/api/tokens", new { name = "n", scopes = new[] { "sync:dbt/a" }, allowed_ips = new[] { "10.1.0.0/16" } });
        Assert.Equal(HttpStatusCode.Created, within.StatusCode);
        var created = await within.JsonAsync();
        Assert.Equal(["profile", "sync:dbt/a"], created.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!).ToArray());
        Assert.Equal(["10.1.0.0/16"], created.GetProperty("allowed_ips").EnumerateArray().Select(s => s.GetString()!).ToArray());
    }

    [Fact]
    public async Task AnUnknownScopeIs422NamingIt()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("u@example.com");
        foreach (var bad in new[] { "bogus", "sync:nosuchtype/a", "sync:dbt/UPPER", "" })
        {
            var response = await client.PostAsJsonAsync("/api/tokens", new { name = "t", scopes = new[] { "sync", bad } });
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{bad}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Contains($"'{bad}'", (await response.JsonAsync()).GetProperty("errors").GetProperty("scopes")[0].GetString(), StringComparison.Ordinal);
        }

        var badIp = await client.PostAsJsonAsync("/api/tokens", new { name = "t", allowed_ips = new[] { "10.0.0.1/8" } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badIp.StatusCode);
        Assert.True((await badIp.JsonAsync()).GetProperty("errors").TryGetProperty("allowed_ips", out _));
    }

    [Fact]
    public async Task ScopesShowInListingsAndAuthMeAndRotationKeepsThem()
    {
        await using var factory = new DotApiFactory().WithRemoteAddress("203.0.113.9");
        var (_, _, client) = await factory.CreateCallerAsync("u@example.com");
        var created = await (await client.PostAsJsonAsync("/api/tokens",
            new { name = "ci", scopes = new[] { "chats", "tokens" }, allowed_ips = new[] { "203.0.113.0/24", "2001:db8::/32" } })).JsonAsync();
        Assert.Equal(["chats", "profile", "tokens"], Strings(created.GetProperty("scopes")));
        var token = created.GetProperty("token").GetString()!;
        var me = await (await factory.ClientWith(token).GetAsync("/api/auth/me")).JsonAsync();
        Assert.Equal(["chats", "profile", "tokens"], Strings(me.GetProperty("auth").GetProperty("scopes")));
        var unscopedMe = await (await client.GetAsync("/api/auth/me")).JsonAsync();
        Assert.Equal(["*"], Strings(unscopedMe.GetProperty("auth").GetProperty("scopes")));

        var rotated = await (await client.PostAsJsonAsync($"/api/tokens/{created.GetProperty("id").GetGuid()}/rotate", new { })).JsonAsync();
        Assert.Equal(["chats", "profile", "tokens"], Strings(rotated.GetProperty("scopes")));
        Assert.Equal(["2001:db8::/32", "203.0.113.0/24"], Strings(rotated.GetProperty("allowed_ips")));
        var successor = factory.ClientWith(rotated.GetProperty("token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await successor.GetAsync("/api/tokens")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await successor.GetAsync("/api/external_assets")).StatusCode);

        var list = await (await client.GetAsync("/api/tokens")).JsonAsync();
        var row = list.GetProperty("items").EnumerateArray().First(t => t.GetProperty("id").GetGuid() == rotated.GetProperty("id").GetGuid());
        Assert.Equal(["chats", "profile", "tokens"], Strings(row.GetProperty("scopes")));
        Assert.Equal(["2001:db8::/32", "203.0.113.0/24"], Strings(row.GetProperty("allowed_ips")));
        var first = list.GetProperty("items").EnumerateArray().First(t => t.GetProperty("name").GetString() == "test");
        Assert.Equal(["*"], Strings(first.GetProperty("scopes")));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("allowed_ips").ValueKind);
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dot.Api.Access;
using Dot.Api.Data;
using Dot.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>External assets: import (insert or overwrite), list, delete — API.md §4.</summary>
public sealed class AssetsTests
{
    private const string Import = "/api/import_and_overwrite_external_asset";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<HttpResponseMessage> ImportAsync(HttpClient client, object asset, string url = Import)
        => await client.PostAsJsonAsync(url, new { external_asset = asset });

    [Fact]
    public async Task ImportCreatesThenOverwritesEveryField()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);

        var created = await ImportAsync(client, new
        {
            id = "looker-42",
            subtype = "dashboard",
            folder = "Finance/Monthly",
            name = "Revenue",
            description = "Monthly revenue",
            url = "https://looker.example.com/dashboards/42",
            active = false,
            view_count = 17,
            last_accessed_at = "2026-01-10T08:30:00Z",
            dot_description = "Use for revenue questions",
        });

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var body = await created.JsonAsync();
        Assert.Equal("created", body.GetProperty("status").GetString());
        var asset = body.GetProperty("external_asset");
        Assert.Equal("looker-42", asset.GetProperty("id").GetString());
        Assert.Equal("dashboard", asset.GetProperty("subtype").GetString());
        Assert.Equal("Finance/Monthly", asset.GetProperty("folder").GetString());
        Assert.Equal("Revenue", asset.GetProperty("name").GetString());
        Assert.Equal("https://looker.example.com/dashboards/42", asset.GetProperty("url").GetString());
        Assert.False(asset.GetProperty("active").GetBoolean());
        Assert.Equal(17, asset.GetProperty("view_count").GetInt64());
        Assert.Equal(new DateTime(2026, 1, 10, 8, 30, 0, DateTimeKind.Utc), asset.GetProperty("last_accessed_at").GetDateTime().ToUniversalTime());
        Assert.Equal("Use for revenue questions", asset.GetProperty("dot_description").GetString());
        Assert.Equal("2026-01-15T12:00:00Z", asset.GetProperty("created_at").GetString());

        factory.Time.Advance(TimeSpan.FromHours(1));
        var updated = await ImportAsync(client, new { id = "looker-42", name = "Revenue v2" });

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        body = await updated.JsonAsync();
        Assert.Equal("updated", body.GetProperty("status").GetString());
        asset = body.GetProperty("external_asset");
        Assert.Equal("Revenue v2", asset.GetProperty("name").GetString());
        // Overwrite, not merge: what the second import left out is back to null / its default.
        foreach (var field in new[] { "subtype", "folder", "description", "url", "last_accessed_at", "dot_description" })
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, asset.GetProperty(field).ValueKind);
        }

        Assert.True(asset.GetProperty("active").GetBoolean());
        Assert.Equal(0, asset.GetProperty("view_count").GetInt64());
        Assert.Equal("2026-01-15T12:00:00Z", asset.GetProperty("created_at").GetString());
        Assert.Equal("2026-01-15T13:00:00Z", asset.GetProperty("updated_at").GetString());

        var list = await (await client.GetAsync("/api/external_assets")).JsonAsync();
        Assert.Equal("Revenue v2", Assert.Single(list.GetProperty("items").EnumerateArray()).GetProperty("name").GetString());
    }

    [Theory]
    [MemberData(nameof(QueryToken.UserIdForms), MemberType = typeof(QueryToken))]
    public async Task QueryTokenImports(string userIdForm)
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("sync_user@contoso.com", Role.Modeler);
        var (token, _) = await factory.CreateTokenAsync(user.Id);

        var response = await ImportAsync(factory.CreateClient(), new { id = "dbt-1", name = "orders" },
            $"{Import}?{QueryToken.For(user, token, userIdForm)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("created", (await response.JsonAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task QueryTokenNeverReachesTheLogs()
    {
        await using var factory = new DotApiFactory().WithTraceLogging();
        var user = await factory.CreateUserAsync("sync_user@contoso.com", Role.Modeler);
        var (token, _) = await factory.CreateTokenAsync(user.Id);

        var ok = await ImportAsync(factory.CreateClient(), new { id = "dbt-1", name = "orders" }, $"{Import}?{QueryToken.For(user, token, "encoded-email")}");
        var invalid = await ImportAsync(factory.CreateClient(), new { id = "dbt-1" }, $"{Import}?{QueryToken.For(user, token, "email")}");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.NotEmpty(factory.Logs.Entries);
        Assert.DoesNotContain(token, factory.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(token[4..], factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryTokenWithAnotherUsersIdIsRefused()
    {
        await using var factory = new DotApiFactory();
        var (_, token, _) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var other = await factory.CreateUserAsync("other@example.com", Role.Modeler);

        var response = await ImportAsync(factory.CreateClient(), new { id = "a", name = "b" },
            $"{Import}?user_id={other.Email}&api_token={token}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("user_id_mismatch", (await response.JsonAsync()).GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData(Role.User, false, HttpStatusCode.Forbidden)]
    [InlineData(Role.User, true, HttpStatusCode.Forbidden)]
    [InlineData(Role.Modeler, true, HttpStatusCode.OK)]
    [InlineData(Role.Admin, false, HttpStatusCode.OK)]
    [InlineData(Role.Admin, true, HttpStatusCode.OK)]
    public async Task ImportIsForAdminsAndModelers(Role role, bool viaQuery, HttpStatusCode expected)
    {
        await using var factory = new DotApiFactory();
        var (user, token, client) = await factory.CreateCallerAsync("caller@example.com", role);

        var response = viaQuery
            ? await ImportAsync(factory.CreateClient(), new { id = "a", name = "b" }, $"{Import}?{QueryToken.For(user, token, "email")}")
            : await ImportAsync(client, new { id = "a", name = "b" });

        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"external_asset": {"name": "n"}}""", "external_asset.id")]
    [InlineData("""{"external_asset": {"id": "", "name": "n"}}""", "external_asset.id")]
    [InlineData("""{"external_asset": {"id": "a", "name": "  "}}""", "external_asset.name")]
    [InlineData("""{"external_asset": {"id": "a"}}""", "external_asset.name")]
    [InlineData("""{"external_asset": {"id": "a", "name": "n", "url": "ftp://example.com/x"}}""", "external_asset.url")]
    [InlineData("""{"external_asset": {"id": "a", "name": "n", "url": "/dashboards/1"}}""", "external_asset.url")]
    [InlineData("""{"external_asset": {"id": "a", "name": "n", "url": "not a url"}}""", "external_asset.url")]
    [InlineData("""{"external_asset": {"id": "a", "name": "n", "view_count": -1}}""", "external_asset.view_count")]
    [InlineData("""{"external_asset": {"id": "a", "name": "n", "view_count": "ten"}}""", "external_asset.view_count")]
    [InlineData("""{"external_asset": {"id": "a", "name": "n", "active": "yes"}}""", "external_asset.active")]
    [InlineData("""{"external_asset": {"id": 12, "name": "n"}}""", "external_asset.id")]
    [InlineData("""{"external_asset": {"id": "a", "name": "n", "last_accessed_at": "yesterday"}}""", "external_asset.last_accessed_at")]
    [InlineData("""{"asset": {"id": "a", "name": "n"}}""", "asset")] // not a field: named, not silently ignored
    public async Task InvalidAssetAnswers422ByField(string json, string field)
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);

        var response = await client.PostAsync(Import, Json(json));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"expected an error for {field}: {errors}");
    }

    [Theory]
    [InlineData("id", 201)]
    [InlineData("name", 501)]
    [InlineData("subtype", 101)]
    [InlineData("folder", 501)]
    [InlineData("description", 10_001)]
    [InlineData("dot_description", 10_001)]
    public async Task OverlongFieldsAnswer422(string field, int length)
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var asset = new Dictionary<string, object> { ["id"] = "a", ["name"] = "n", [field] = new string('x', length) };

        var response = await client.PostAsJsonAsync(Import, new { external_asset = asset });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty($"external_asset.{field}", out _));
    }

    [Fact]
    public async Task BodyThatIsNotJsonIs400()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);

        var response = await client.PostAsync(Import, Json("{not json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task ConcurrentOverwritesOfOneIdAllSucceedAndLeaveOneRow()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);

        var responses = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            ImportAsync(client, new { id = "contended", name = $"version {i}", view_count = i })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var statuses = await Task.WhenAll(responses.Select(async r => (await r.JsonAsync()).GetProperty("status").GetString()));
        Assert.Single(statuses, s => s == "created");
        Assert.Equal(63, statuses.Count(s => s == "updated"));

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        var row = Assert.Single(await db.ExternalAssets.ToListAsync());
        Assert.Equal(64, row.Revision);
        Assert.Equal($"version {row.ViewCount}", row.Name); // one import's fields, never a mix
    }

    [Fact]
    public async Task ListFiltersBySubtypeFolderAndActive()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        await ImportAsync(client, new { id = "a", name = "A", subtype = "dashboard", folder = "Sales", active = true });
        await ImportAsync(client, new { id = "b", name = "B", subtype = "dashboard", folder = "Finance", active = false });
        await ImportAsync(client, new { id = "c", name = "C", subtype = "report", folder = "Sales", active = true });

        async Task<string[]> IdsAsync(string query)
        {
            var response = await client.GetAsync($"/api/external_assets{query}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return [.. (await response.JsonAsync()).GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetString()!)];
        }

        Assert.Equal(["a", "b", "c"], await IdsAsync(""));
        Assert.Equal(["a", "b"], await IdsAsync("?subtype=dashboard"));
        Assert.Equal(["a", "c"], await IdsAsync("?folder=Sales"));
        Assert.Equal(["b"], await IdsAsync("?active=false"));
        Assert.Equal(["a"], await IdsAsync("?subtype=dashboard&folder=Sales&active=true"));
        Assert.Empty(await IdsAsync("?subtype=notebook"));

        var bad = await client.GetAsync("/api/external_assets?active=maybe");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        Assert.True((await bad.JsonAsync()).GetProperty("errors").TryGetProperty("active", out _));
    }

    [Fact]
    public async Task ListPagesWithCursor()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        foreach (var id in new[] { "e", "a", "d", "b", "c" })
        {
            await ImportAsync(client, new { id, name = id.ToUpperInvariant() });
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = "/api/external_assets?limit=2" + (cursor is null ? "" : $"&cursor={cursor}");
            var page = await (await client.GetAsync(url)).JsonAsync();
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(["a", "b", "c", "d", "e"], seen);
        Assert.Equal(3, pages);

        var badCursor = await client.GetAsync("/api/external_assets?cursor=%25%25%25");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badCursor.StatusCode);
        var badLimit = await client.GetAsync("/api/external_assets?limit=0");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badLimit.StatusCode);
        Assert.True((await badLimit.JsonAsync()).GetProperty("errors").TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task DeleteRemovesTheAssetAndUnknownIdIs404()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        await ImportAsync(client, new { id = "keep", name = "Keep" });
        await ImportAsync(client, new { id = "gone", name = "Gone" });
        await ImportAsync(client, new { id = "looker/dashboards/12", name = "With slashes" });

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/external_assets/gone")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/external_assets/looker/dashboards/12")).StatusCode);

        var again = await client.DeleteAsync("/api/external_assets/gone");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        var items = (await (await client.GetAsync("/api/external_assets")).JsonAsync()).GetProperty("items");
        Assert.Equal("keep", Assert.Single(items.EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task ListAndDeleteAreForAdminsAndModelersWithHeaderTokens()
    {
        await using var factory = new DotApiFactory();
        var (_, _, modeler) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var (_, _, userClient) = await factory.CreateCallerAsync("user@example.com");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await ImportAsync(modeler, new { id = "a", name = "A" });

        Assert.Equal(HttpStatusCode.Forbidden, (await userClient.GetAsync("/api/external_assets")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await userClient.DeleteAsync("/api/external_assets/a")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/external_assets")).StatusCode);

        // The list is not one of the three URL-token endpoints.
        var modelerUser = await factory.CreateUserAsync("q@example.com", Role.Modeler);
        var (queryToken, _) = await factory.CreateTokenAsync(modelerUser.Id);
        var viaQuery = await factory.CreateClient().GetAsync($"/api/external_assets?{QueryToken.For(modelerUser, queryToken, "email")}");
        Assert.Equal(HttpStatusCode.Unauthorized, viaQuery.StatusCode);
        Assert.Equal("query_token_not_allowed", (await viaQuery.JsonAsync()).GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/external_assets/a")).StatusCode);
    }
}

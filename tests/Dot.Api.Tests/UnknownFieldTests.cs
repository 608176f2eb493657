using System.Net;
using System.Text;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>API.md §4: a field the endpoint does not know is a 422 naming it; only the sync endpoint ignores its body.</summary>
[Trait("Store", "any")] // how bodies bind (JSON); nothing of it is the store's
public sealed class UnknownFieldTests
{
    [Fact]
    public async Task ACamelCaseExpiryIsRefusedNotDroppedIntoANeverExpiringToken()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("typo@example.com");

        var response = await client.PostAsync("/api/tokens", Json("""{"name": "ci", "expiresInDays": 30}"""));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.Contains("snake_case", errors.GetProperty("expiresInDays")[0].GetString(), StringComparison.Ordinal);
        var tokens = (await (await client.GetAsync("/api/tokens")).JsonAsync()).GetProperty("items");
        Assert.Equal(1, tokens.GetArrayLength()); // only the caller's own: nothing was created
    }

    [Theory]
    [InlineData("/api/tokens", """{"name": "ci", "expires_in_days": 1, "scope": "x"}""", "scope")]
    [InlineData("/api/users", """{"email": "n@example.com", "role": "user", "Role": "admin"}""", "Role")]
    [InlineData("/api/chats", """{"title": "t", "owner": "someone"}""", "owner")]
    [InlineData("/api/import_and_overwrite_external_asset", """{"external_asset": {"id": "a", "name": "A", "viewCount": 3}}""", "external_asset.viewCount")]
    [InlineData("/api/connections", """{"type": "postgres", "id": "w", "setting": {"host": "db"}}""", "setting")]
    public async Task UnknownFieldsAreNamedIn422(string path, string body, string field)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var response = await admin.PostAsync(path, Json(body));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task APatchWithATypoChangesNothing()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var user = await factory.CreateUserAsync("u@example.com");

        var response = await admin.PatchAsync($"/api/users/{user.Id}", Json("""{"disabld": true, "name": "New"}"""));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var listed = (await (await admin.GetAsync("/api/users")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Single(u => u.GetProperty("id").GetGuid() == user.Id);
        Assert.NotEqual("New", listed.GetProperty("name").GetString());
    }

    [Fact]
    public async Task TheSyncEndpointStillIgnoresItsBody()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Sync:WorkerEnabled", "false");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("postgres", "warehouse", new { host = "db.example.com" });

        var response = await admin.PostAsync("/api/sync/postgres/warehouse", Json("""{"eventType": "job.run.completed", "anything": [1, 2]}"""));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}

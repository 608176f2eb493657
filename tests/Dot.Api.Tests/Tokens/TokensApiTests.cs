using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;

namespace Dot.Api.Tests;

public sealed class TokensApiTests
{
    [Fact]
    public async Task CreateReturnsTheSecretOnceAndTheListNever()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("owner@example.com");

        var created = await client.PostAsJsonAsync("/api/tokens", new { name = "ci", description = "GitHub Actions", expires_in_days = 30 });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        var secret = body.GetProperty("token").GetString()!;
        Assert.Equal(TokenShape.Valid, TokenFormat.Check(secret));
        Assert.Equal(secret[..10], body.GetProperty("hint").GetString());
        Assert.Equal("ci", body.GetProperty("name").GetString());
        Assert.Equal("GitHub Actions", body.GetProperty("description").GetString());
        Assert.Equal("active", body.GetProperty("status").GetString());
        Assert.Equal(new DateTime(2026, 2, 14, 12, 0, 0, DateTimeKind.Utc), body.GetProperty("expires_at").GetDateTime().ToUniversalTime());
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(secret).GetAsync("/api/auth/me")).StatusCode);

        var listText = await client.GetStringAsync("/api/tokens");
        Assert.DoesNotContain(secret, listText, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[10..], listText, StringComparison.Ordinal);
        Assert.Contains("\"hint\"", listText, StringComparison.Ordinal);
        Assert.DoesNotContain("\"token\"", listText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecretNeverReachesTheDatabaseFile()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("owner@example.com");
        var secrets = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var body = await (await client.PostAsJsonAsync("/api/tokens", new { name = $"t{i}" })).JsonAsync();
            secrets.Add(body.GetProperty("token").GetString()!);
            Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(secrets[^1]).GetAsync("/api/auth/me")).StatusCode);
        }

        await factory.FlushTokenUsageAsync();
        await factory.DisposeServerKeepFilesAsync();

        // On SQLite the files' bytes; on PostgreSQL every column of every table, and a pg_dump of the database.
        var stored = await StoredData.ReadAsync(factory);
        foreach (var secret in secrets)
        {
            Assert.Empty(stored.Find(secret));
            Assert.Empty(stored.Find(secret[4..]));
            Assert.NotEmpty(stored.Find(secret[..10])); // the hint is there, so the scan reads the data
        }
    }

    [Fact]
    public async Task ValidationErrorsAre422KeyedByField()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("v@example.com");

        async Task<string[]> FieldsOf(object body)
        {
            var response = await client.PostAsJsonAsync("/api/tokens", body);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return (await response.JsonAsync()).GetProperty("errors").EnumerateObject().Select(p => p.Name).ToArray();
        }

        Assert.Equal(["name"], await FieldsOf(new { name = "" }));
        Assert.Equal(["name"], await FieldsOf(new { name = new string('n', 101) }));
        Assert.Equal(["description"], await FieldsOf(new { name = "x", description = new string('d', 501) }));
        Assert.Equal(["expires_in_days"], await FieldsOf(new { name = "x", expires_in_days = 0 }));
        Assert.Equal(["expires_in_days"], await FieldsOf(new { name = "x", expires_in_days = 3651 }));
        Assert.Equal(["expires_at"], await FieldsOf(new { name = "x", expires_at = "2020-01-01T00:00:00Z" }));
        Assert.Equal(["expires_at"], await FieldsOf(new { name = "x", expires_in_days = 3, expires_at = "2027-01-01T00:00:00Z" }));
        Assert.Equal(["expires_in_days"], await FieldsOf(new { name = "x", expires_in_days = "soon" }));
    }

    [Fact]
    public async Task BodyThatIsNotJsonIs400()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("j@example.com");

        var response = await client.PostAsync("/api/tokens", new StringContent("{not json", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task MaxLifetimeSettingForbidsNeverAndBecomesTheDefault()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Tokens:MaxLifetimeDays", "90");
        var (_, _, client) = await factory.CreateCallerAsync("max@example.com");

        var created = await (await client.PostAsJsonAsync("/api/tokens", new { name = "default" })).JsonAsync();
        Assert.Equal(new DateTime(2026, 4, 15, 12, 0, 0, DateTimeKind.Utc), created.GetProperty("expires_at").GetDateTime().ToUniversalTime());

        var tooLong = await client.PostAsJsonAsync("/api/tokens", new { name = "long", expires_in_days = 91 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLong.StatusCode);
    }

    [Fact]
    public async Task UserCannotCreateOrRevokeAnotherUsersTokens()
    {
        await using var factory = new DotApiFactory();
        var (_, _, mallory) = await factory.CreateCallerAsync("mallory@example.com");
        var victim = await factory.CreateUserAsync("victim@example.com");
        var (victimToken, victimTokenId) = await factory.CreateTokenAsync(victim.Id);

        var create = await mallory.PostAsJsonAsync("/api/tokens", new { name = "x", user_id = victim.Id });
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        var createByEmail = await mallory.PostAsJsonAsync("/api/tokens", new { name = "x", user_id = victim.Email });
        Assert.Equal(HttpStatusCode.Forbidden, createByEmail.StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await mallory.DeleteAsync($"/api/tokens/{victimTokenId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await mallory.GetAsync($"/api/tokens?user_id={victim.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(victimToken).GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task AdminCanCreateListAndRevokeAnotherUsersTokens()
    {
        await using var factory = new DotApiFactory();
        var (admin, _, adminClient) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var user = await factory.CreateUserAsync("user@example.com");

        var created = await adminClient.PostAsJsonAsync("/api/tokens", new { name = "for-user", user_id = user.Email, expires_in_days = 7 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        Assert.Equal(user.Id, body.GetProperty("user_id").GetGuid());
        Assert.Equal(admin.Id, body.GetProperty("created_by").GetGuid());
        var userClient = factory.ClientWith(body.GetProperty("token").GetString()!);
        Assert.Equal(user.Email, (await (await userClient.GetAsync("/api/auth/me")).JsonAsync()).GetProperty("email").GetString());

        var list = await (await adminClient.GetAsync($"/api/tokens?user_id={user.Id}")).JsonAsync();
        Assert.Single(list.GetProperty("items").EnumerateArray());

        var id = body.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await adminClient.DeleteAsync($"/api/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await adminClient.DeleteAsync($"/api/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await userClient.GetAsync("/api/auth/me")).StatusCode);
        var after = await (await adminClient.GetAsync($"/api/tokens?user_id={user.Id}")).JsonAsync();
        Assert.Equal("revoked", after.GetProperty("items")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task DuplicateActiveTokenNameIs409UntilTheFirstIsRevokedAndRotationKeepsTheName()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("dup@example.com");

        var first = await client.PostAsJsonAsync("/api/tokens", new { name = "deploy", expires_in_days = 30 });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var firstId = (await first.JsonAsync()).GetProperty("id").GetGuid();

        var again = await client.PostAsJsonAsync("/api/tokens", new { name = " DEPLOY ", expires_in_days = 7 });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("deploy", (await again.JsonAsync()).GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);

        var rotated = await client.PostAsJsonAsync($"/api/tokens/{firstId}/rotate", new { grace_period_minutes = 60 });
        Assert.Equal(HttpStatusCode.Created, rotated.StatusCode);
        Assert.Equal("deploy", (await rotated.JsonAsync()).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.Conflict,
            (await client.PostAsJsonAsync("/api/tokens", new { name = "deploy", expires_in_days = 7 })).StatusCode);

        foreach (var token in (await (await client.GetAsync("/api/tokens")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Where(t => t.GetProperty("name").GetString() == "deploy"))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/tokens/{token.GetProperty("id").GetGuid()}")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created,
            (await client.PostAsJsonAsync("/api/tokens", new { name = "Deploy", expires_in_days = 7 })).StatusCode);
    }

    [Fact]
    public async Task AnExpiredTokenDoesNotHoldItsName()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("exp@example.com");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/tokens", new { name = "nightly", expires_in_days = 1 })).StatusCode);

        factory.Time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/tokens", new { name = "nightly", expires_in_days = 1 })).StatusCode);
    }

    [Fact]
    public async Task RevokingAnUnknownTokenIs404()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("u@example.com");

        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/tokens/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task RotationKeepsTheOldSecretForTheGracePeriod()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("rot@example.com");
        var (old, oldId) = await factory.CreateTokenAsync(user.Id, "deploy", TimeSpan.FromDays(30));
        var oldClient = factory.ClientWith(old);

        var rotated = await oldClient.PostAsJsonAsync($"/api/tokens/{oldId}/rotate", new { grace_period_minutes = 60 });

        Assert.Equal(HttpStatusCode.Created, rotated.StatusCode);
        var body = await rotated.JsonAsync();
        var fresh = factory.ClientWith(body.GetProperty("token").GetString()!);
        Assert.Equal("deploy", body.GetProperty("name").GetString());
        Assert.Equal(new DateTime(2026, 2, 14, 12, 0, 0, DateTimeKind.Utc), body.GetProperty("expires_at").GetDateTime().ToUniversalTime());
        Assert.Equal(HttpStatusCode.OK, (await oldClient.GetAsync("/api/auth/me")).StatusCode);
        var list = await (await fresh.GetAsync("/api/tokens")).JsonAsync();
        Assert.Equal("rotating", list.GetProperty("items").EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == oldId).GetProperty("status").GetString());

        factory.Time.Advance(TimeSpan.FromMinutes(60));

        Assert.Equal(HttpStatusCode.Unauthorized, (await oldClient.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task RotationWithoutGraceStopsTheOldSecretAtOnce()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("rot0@example.com");
        var (old, oldId) = await factory.CreateTokenAsync(user.Id);
        var oldClient = factory.ClientWith(old);

        var rotated = await oldClient.PostAsync($"/api/tokens/{oldId}/rotate", null);

        Assert.Equal(HttpStatusCode.Created, rotated.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await oldClient.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity,
            (await factory.ClientWith((await rotated.JsonAsync()).GetProperty("token").GetString()!)
                .PostAsJsonAsync($"/api/tokens/{oldId}/rotate", new { grace_period_minutes = 10081 })).StatusCode);
    }

    /// <summary>API.md §2: a rotated token's lifetime respects Dot:Tokens:MaxLifetimeDays as it is now.</summary>
    [Fact]
    public async Task RotationUnderAMaximumLifetimeClampsTheSuccessor()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Tokens:MaxLifetimeDays", "30");
        var user = await factory.CreateUserAsync("clamp@example.com");
        // Made before the maximum was set: one that never expires, one of a year.
        var (_, never) = await factory.CreateTokenAsync(user.Id, "never");
        var (yearToken, year) = await factory.CreateTokenAsync(user.Id, "year", TimeSpan.FromDays(365));
        var (_, week) = await factory.CreateTokenAsync(user.Id, "week", TimeSpan.FromDays(7));
        var client = factory.ClientWith(yearToken);
        var max = factory.Time.GetUtcNow().UtcDateTime.AddDays(30);

        foreach (var (id, expected) in new[] { (never, max), (year, max), (week, factory.Time.GetUtcNow().UtcDateTime.AddDays(7)) })
        {
            var rotated = await client.PostAsJsonAsync($"/api/tokens/{id}/rotate", new { grace_period_minutes = 60 });

            Assert.Equal(HttpStatusCode.Created, rotated.StatusCode);
            var body = await rotated.JsonAsync();
            Assert.Equal(JsonValueKind.String, body.GetProperty("expires_at").ValueKind);
            Assert.Equal(expected, body.GetProperty("expires_at").GetDateTime().ToUniversalTime());
        }
    }

    /// <summary>API.md §2: every response that carries a plaintext token has Cache-Control: no-store.</summary>
    [Fact]
    public async Task ResponsesCarryingASecretAreNotStored()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("cache@example.com");

        var created = await client.PostAsJsonAsync("/api/tokens", new { name = "ci", expires_in_days = 30 });
        var id = (await created.JsonAsync()).GetProperty("id").GetGuid();
        var rotated = await client.PostAsJsonAsync($"/api/tokens/{id}/rotate", new { grace_period_minutes = 0 });

        foreach (var response in new[] { created, rotated })
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.True(response.Headers.CacheControl?.NoStore, $"Cache-Control: {response.Headers.CacheControl}");
        }
    }

    [Theory]
    [InlineData("name", "nul\0byte")]
    [InlineData("name", "bell\a")]
    [InlineData("name", "\u001b[31mred")]
    [InlineData("name", "two\nlines")]
    [InlineData("name", "del\u007f")]
    [InlineData("description", "nul\0byte")]
    [InlineData("description", "carriage\rreturn")]
    [InlineData("description", "\u0085next line")]
    public async Task TokenNamesAndDescriptionsRefuseControlCharacters(string field, string value)
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("ctl@example.com");
        var body = new Dictionary<string, object> { ["name"] = "ok", ["expires_in_days"] = 1, [field] = value };

        var response = await client.PostAsJsonAsync("/api/tokens", body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _));
        Assert.DoesNotContain((await (await client.GetAsync("/api/tokens")).JsonAsync()).GetProperty("items").EnumerateArray(),
            t => t.GetProperty("name").GetString() != "test");
    }
}

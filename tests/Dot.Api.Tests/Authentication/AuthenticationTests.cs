using System.Net;
using System.Net.Http.Json;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.AspNetCore.Builder;

namespace Dot.Api.Tests;

/// <summary>Every rule of API.md §3, through HTTP with tokens the product minted.</summary>
public sealed class AuthenticationTests
{
    private const string ProbeRoute = "/api/test/query-probe";

    /// <summary>A route only this test host maps, carrying the same metadata the three webhook routes will.</summary>
    private static DotApiFactory FactoryWithQueryProbe()
        => new DotApiFactory().WithEndpoints(routes => routes
            .MapPost(ProbeRoute, (System.Security.Claims.ClaimsPrincipal user) => AuthApi.Me(user))
            .RequireRole(Role.User)
            .AllowApiTokenInQuery());

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string reason)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("ApiKey", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var body = await response.JsonAsync();
        Assert.Equal(reason, body.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task HeaderTokenAuthenticates()
    {
        await using var factory = new DotApiFactory();
        var (user, _, client) = await factory.CreateCallerAsync("ada@example.com", Role.Modeler);

        var response = await client.GetAsync("/api/auth/me");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = await response.JsonAsync();
        Assert.Equal(user.Id.ToString(), me.GetProperty("id").GetString());
        Assert.Equal("ada@example.com", me.GetProperty("email").GetString());
        Assert.Equal("modeler", me.GetProperty("role").GetString());
        Assert.Equal("header", me.GetProperty("auth").GetProperty("method").GetString());
        Assert.Equal("test", me.GetProperty("auth").GetProperty("token_name").GetString());
    }

    [Fact]
    public async Task XApiKeyHeaderAuthenticates()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("x@example.com");
        var (token, _) = await factory.CreateTokenAsync(user.Id);

        var response = await factory.ClientWith(token, "X-API-KEY").GetAsync("/api/auth/me");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task MissingCredentialsAreRefused()
    {
        await using var factory = new DotApiFactory();
        await AssertRefusedAsync(await factory.CreateClient().GetAsync("/api/auth/me"), "missing_credentials");
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("dot-")]
    [InlineData("DOT-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("dot-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("dot-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")]
    public async Task MalformedTokensAreRefused(string token)
    {
        await using var factory = new DotApiFactory();
        await AssertRefusedAsync(await factory.ClientWith(token).GetAsync("/api/auth/me"), "malformed_token");
    }

    [Fact]
    public async Task BadChecksumIsRefusedAsMalformed()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("c@example.com");
        var (token, _) = await factory.CreateTokenAsync(user.Id);
        var typo = token[..20] + (token[20] == 'a' ? 'b' : 'a') + token[21..];

        var response = await factory.ClientWith(typo).GetAsync("/api/auth/me");

        await AssertRefusedAsync(response, "malformed_token");
        Assert.Contains("checksum", (await response.JsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WellFormedUnknownTokenIsRefused()
    {
        await using var factory = new DotApiFactory();
        await AssertRefusedAsync(await factory.ClientWith(TokenFormat.Generate()).GetAsync("/api/auth/me"), "unknown_token");
    }

    [Fact]
    public async Task ExpiredTokenIsRefused()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("e@example.com");
        var (token, _) = await factory.CreateTokenAsync(user.Id, lifetime: TimeSpan.FromDays(7));
        var client = factory.ClientWith(token);

        var before = await client.GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.True(before.Headers.Contains(ApiTokenDefaults.ExpirationHeader));
        Assert.Equal("2026-01-22T12:00:00Z", before.Headers.GetValues(ApiTokenDefaults.ExpirationHeader).Single());

        factory.Time.Advance(TimeSpan.FromDays(7));
        await AssertRefusedAsync(await client.GetAsync("/api/auth/me"), "expired_token");
    }

    [Fact]
    public async Task TokenThatNeverExpiresSendsNoExpirationHeader()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("n@example.com");

        var response = await client.GetAsync("/api/auth/me");

        Assert.False(response.Headers.Contains(ApiTokenDefaults.ExpirationHeader));
    }

    [Fact]
    public async Task RevokedTokenIsRejectedOnNextRequest()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("r@example.com");
        var (token, id) = await factory.CreateTokenAsync(user.Id);
        var client = factory.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/tokens/{id}")).StatusCode);

        await AssertRefusedAsync(await client.GetAsync("/api/auth/me"), "revoked_token");
    }

    [Fact]
    public async Task DisabledOwnerIsRefusedAtOnce()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var (user, _, client) = await factory.CreateCallerAsync("d@example.com");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);

        var patch = await admin.PatchAsJsonAsync($"/api/users/{user.Id}", new { disabled = true });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        await AssertRefusedAsync(await client.GetAsync("/api/auth/me"), "disabled_user");
    }

    [Fact]
    public async Task DemotionBitesOnNextRequest()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var (other, _, otherAdmin) = await factory.CreateCallerAsync("admin2@example.com", Role.Admin);
        Assert.Equal(HttpStatusCode.OK, (await otherAdmin.GetAsync("/api/users")).StatusCode);

        await admin.PatchAsJsonAsync($"/api/users/{other.Id}", new { role = "user" });

        var response = await otherAdmin.GetAsync("/api/users");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("insufficient_role", (await response.JsonAsync()).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task QueryTokenIsRefusedOnAuthMe()
    {
        await using var factory = new DotApiFactory();
        var (user, token, _) = await factory.CreateCallerAsync("q@example.com");

        var response = await factory.CreateClient().GetAsync($"/api/auth/me?user_id={user.Email}&api_token={token}");

        await AssertRefusedAsync(response, "query_token_not_allowed");
        Assert.Contains("/api/export_history", (await response.JsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("email")]
    [InlineData("encoded-email")]
    [InlineData("upper-email")]
    [InlineData("id")]
    public async Task QueryTokenAuthenticatesWhereTheRouteAllowsIt(string userIdForm)
    {
        await using var factory = FactoryWithQueryProbe();
        var user = await factory.CreateUserAsync("sync_user@contoso.com");
        var (token, _) = await factory.CreateTokenAsync(user.Id);
        var userId = userIdForm switch
        {
            "email" => "sync_user@contoso.com",
            "encoded-email" => "sync_user%40contoso.com",
            "upper-email" => "SYNC_USER@Contoso.COM",
            _ => user.Id.ToString(),
        };

        var response = await factory.CreateClient().PostAsync($"{ProbeRoute}?user_id={userId}&api_token={token}", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("query", (await response.JsonAsync()).GetProperty("auth").GetProperty("method").GetString());
    }

    [Fact]
    public async Task QueryTokenWithoutUserIdIsRefused()
    {
        await using var factory = FactoryWithQueryProbe();
        var (_, token, _) = await factory.CreateCallerAsync("u@example.com");

        await AssertRefusedAsync(await factory.CreateClient().PostAsync($"{ProbeRoute}?api_token={token}", null), "user_id_mismatch");
    }

    [Fact]
    public async Task QueryTokenWithAnotherUsersIdIsRefused()
    {
        await using var factory = FactoryWithQueryProbe();
        var (_, token, _) = await factory.CreateCallerAsync("u@example.com");
        var other = await factory.CreateUserAsync("other@example.com");

        await AssertRefusedAsync(await factory.CreateClient().PostAsync($"{ProbeRoute}?user_id={other.Email}&api_token={token}", null), "user_id_mismatch");
        await AssertRefusedAsync(await factory.CreateClient().PostAsync($"{ProbeRoute}?user_id={other.Id}&api_token={token}", null), "user_id_mismatch");
    }

    [Fact]
    public async Task HeaderWinsOverQuery()
    {
        await using var factory = FactoryWithQueryProbe();
        var (header, headerToken, _) = await factory.CreateCallerAsync("header@example.com");
        var (query, queryToken, _) = await factory.CreateCallerAsync("query@example.com");

        var response = await factory.ClientWith(headerToken).PostAsync($"{ProbeRoute}?user_id={query.Email}&api_token={queryToken}", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = await response.JsonAsync();
        Assert.Equal(header.Id.ToString(), me.GetProperty("id").GetString());
        Assert.Equal("header", me.GetProperty("auth").GetProperty("method").GetString());
    }

    [Fact]
    public async Task UserRoleGetsForbiddenFromAdminEndpoints()
    {
        await using var factory = new DotApiFactory();
        var (_, _, modeler) = await factory.CreateCallerAsync("m@example.com", Role.Modeler);

        var response = await modeler.GetAsync("/api/users");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task LastUsedIsGatheredAndWrittenInBatches()
    {
        await using var factory = FactoryWithQueryProbe();
        var (user, token, _) = await factory.CreateCallerAsync("lu@example.com");
        var (lister, listerId) = await factory.CreateTokenAsync(user.Id, "lister");
        await factory.CreateClient().PostAsync($"{ProbeRoute}?user_id={user.Email}&api_token={token}", null);
        factory.Time.Advance(TimeSpan.FromMinutes(1));

        await factory.FlushTokenUsageAsync();
        var list = await (await factory.ClientWith(lister).GetAsync("/api/tokens")).JsonAsync();

        var item = list.GetProperty("items").EnumerateArray().Single(t => t.GetProperty("id").GetGuid() != listerId);
        Assert.Equal("2026-01-15T12:00:00Z", item.GetProperty("last_used_at").GetDateTime().ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("query", item.GetProperty("last_used_via").GetString());
    }
}

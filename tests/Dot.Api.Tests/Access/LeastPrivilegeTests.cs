using System.Net;
using System.Net.Http.Json;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>
/// API.md §2, "no credential produces a broader one", and who may act on whose tokens: the findings of the
/// least-privilege review (#25), each through HTTP with real tokens, on the suite's store.
/// </summary>
public sealed class LeastPrivilegeTests
{
    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string reason, string? requiredScope = null)
    {
        Assert.Equal(status, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.Equal(reason, problem.GetProperty("reason").GetString());
        if (requiredScope is not null)
        {
            Assert.Equal(requiredScope, problem.GetProperty("required_scope").GetString());
        }
    }

    private static Task<HttpResponseMessage> RotateAsync(HttpClient client, Guid id, int grace = 0)
        => client.PostAsJsonAsync($"/api/tokens/{id}/rotate", new { grace_period_minutes = grace });

    // Finding 1: rotation is minting.
    [Fact]
    public async Task AScopedTokenCannotRotateAnUnscopedTokenOfItsOwner()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("rotate-up@example.com", Role.Modeler);
        var (full, fullId) = await factory.CreateTokenAsync(user.Id, "full");
        var (scoped, scopedId) = await factory.CreateTokenAsync(user.Id, "scoped", scopes: [Scopes.Tokens]);
        var client = factory.ClientWith(scoped);

        await AssertRefusedAsync(await RotateAsync(client, fullId, grace: 60), HttpStatusCode.Forbidden, "insufficient_scope", Scopes.All);
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(full).GetAsync("/api/auth/me")).StatusCode); // not rotated

        // A token may still rotate what lies within it: itself, keeping its scopes.
        var own = await RotateAsync(client, scopedId);
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.Equal([Scopes.Profile, Scopes.Tokens], (await own.JsonAsync()).GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task AnAdminsScopedTokenCannotRotateAnotherUsersUnscopedToken()
    {
        await using var factory = new DotApiFactory();
        var admin = await factory.CreateUserAsync("rotate-admin@example.com", Role.Admin);
        var victim = await factory.CreateUserAsync("rotate-victim@example.com", Role.Admin);
        var (_, victimTokenId) = await factory.CreateTokenAsync(victim.Id, "full");
        var (scoped, _) = await factory.CreateTokenAsync(admin.Id, "tokens-users", scopes: [Scopes.Tokens, Scopes.Users]);

        await AssertRefusedAsync(await RotateAsync(factory.ClientWith(scoped), victimTokenId), HttpStatusCode.Forbidden, "insufficient_scope", Scopes.All);
    }

    [Fact]
    public async Task AnAddressBoundTokenCannotRotateATokenUsableFromAnywhere()
    {
        await using var factory = new DotApiFactory().WithRemoteAddress("203.0.113.7");
        var user = await factory.CreateUserAsync("rotate-ip@example.com");
        var (_, freeId) = await factory.CreateTokenAsync(user.Id, "anywhere");
        var (_, narrowId) = await factory.CreateTokenAsync(user.Id, "narrower", allowedIps: ["203.0.113.7"]);
        var (bound, _) = await factory.CreateTokenAsync(user.Id, "bound", allowedIps: ["203.0.113.0/24"]);
        var client = factory.ClientWith(bound);

        await AssertRefusedAsync(await RotateAsync(client, freeId), HttpStatusCode.Forbidden, "ip_not_allowed");
        Assert.Equal(HttpStatusCode.Created, (await RotateAsync(client, narrowId)).StatusCode); // within its own range
    }

    // Finding 3: `tokens` is the caller's own tokens; another user's need `users` as well.
    [Fact]
    public async Task AnAdminsTokensScopedTokenManagesOnlyItsOwnersTokens()
    {
        await using var factory = new DotApiFactory();
        var admin = await factory.CreateUserAsync("own-only@example.com", Role.Admin);
        var other = await factory.CreateUserAsync("other@example.com");
        var (_, otherTokenId) = await factory.CreateTokenAsync(other.Id, "theirs", scopes: [Scopes.Chats]);
        var (tokensOnly, _) = await factory.CreateTokenAsync(admin.Id, "tokens", scopes: [Scopes.Tokens, Scopes.Chats]);
        var client = factory.ClientWith(tokensOnly);

        await AssertRefusedAsync(await client.GetAsync($"/api/tokens?user_id={other.Id}"), HttpStatusCode.Forbidden, "insufficient_scope", Scopes.Users);
        await AssertRefusedAsync(await client.PostAsJsonAsync("/api/tokens", new { name = "for them", user_id = other.Email, scopes = new[] { Scopes.Chats } }),
            HttpStatusCode.Forbidden, "insufficient_scope", Scopes.Users);
        await AssertRefusedAsync(await RotateAsync(client, otherTokenId), HttpStatusCode.Forbidden, "insufficient_scope", Scopes.Users);
        await AssertRefusedAsync(await client.DeleteAsync($"/api/tokens/{otherTokenId}"), HttpStatusCode.Forbidden, "insufficient_scope", Scopes.Users);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/tokens")).StatusCode); // its own: yes

        var (withUsers, _) = await factory.CreateTokenAsync(admin.Id, "tokens+users", scopes: [Scopes.Tokens, Scopes.Users, Scopes.Chats]);
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(withUsers).GetAsync($"/api/tokens?user_id={other.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await factory.ClientWith(withUsers).DeleteAsync($"/api/tokens/{otherTokenId}")).StatusCode);
    }

    // Finding 5 (and rule 1): no unscoped credential from a scoped token — no password, no web session.
    [Fact]
    public async Task AUsersScopedTokenCannotSetAPasswordCreateAUserWithOneOrSignIn()
    {
        await using var factory = new DotApiFactory();
        var admin = await factory.CreateUserAsync("users-scope@example.com", Role.Admin, password: "correct horse battery staple");
        var (scoped, _) = await factory.CreateTokenAsync(admin.Id, "users", scopes: [Scopes.Users]);
        var client = factory.ClientWith(scoped);

        await AssertRefusedAsync(await client.PostAsJsonAsync("/api/users", new { email = "mallory@example.com", role = "admin", password = "hunter2hunter2" }),
            HttpStatusCode.Forbidden, "insufficient_scope", Scopes.All);
        await AssertRefusedAsync(await client.PatchAsJsonAsync($"/api/users/{admin.Id}", new { password = "hunter2hunter2" }),
            HttpStatusCode.Forbidden, "insufficient_scope", Scopes.All);
        Assert.Equal(HttpStatusCode.Created,
            (await client.PostAsJsonAsync("/api/users", new { email = "nopassword@example.com", role = "user" })).StatusCode); // user administration itself: yes
        await using (var db = factory.OpenStore())
        {
            Assert.False(await db.Users.AnyAsync(u => u.NormalizedEmail == "MALLORY@EXAMPLE.COM"));
        }

        var session = await SessionClient.StartAsync(factory);
        session.Http.DefaultRequestHeaders.Add("API-KEY", scoped);
        await session.RefreshAsync(); // the anti-forgery token of the caller as the token authenticates it
        await AssertRefusedAsync(await session.SignInAsync(admin.Email, "correct horse battery staple"), HttpStatusCode.Forbidden, "insufficient_scope", Scopes.All);
    }

    // Finding 9: a service account's own token manages no tokens, whatever its role.
    [Fact]
    public async Task AnAdminServiceAccountsOwnTokenCannotCreateRotateOrRevokeTokens()
    {
        await using var factory = new DotApiFactory();
        User service;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            service = (await scope.ServiceProvider.GetRequiredService<UserService>()
                .CreateAsync("bot@service.local", "bot", Role.Admin, null, UserKind.Service, CancellationToken.None))!;
        }

        var (token, id) = await factory.CreateTokenAsync(service.Id, "webhook");
        var client = factory.ClientWith(token);

        await AssertRefusedAsync(await client.PostAsJsonAsync("/api/tokens", new { name = "more" }), HttpStatusCode.Forbidden, "service_account");
        await AssertRefusedAsync(await RotateAsync(client, id), HttpStatusCode.Forbidden, "service_account");
        await AssertRefusedAsync(await client.DeleteAsync($"/api/tokens/{id}"), HttpStatusCode.Forbidden, "service_account");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
    }

    // Finding 6: revoking ends the whole rotation family.
    [Fact]
    public async Task RevokingARotatedTokensSuccessorEndsThePredecessorStillInGrace()
    {
        await using var factory = new DotApiFactory();
        var (user, first, owner) = await factory.CreateCallerAsync("family@example.com");
        var me = await (await owner.GetAsync("/api/auth/me")).JsonAsync();
        var firstId = me.GetProperty("auth").GetProperty("token_id").GetGuid();

        var second = await (await RotateAsync(owner, firstId, grace: 60)).JsonAsync();
        var secondClient = factory.ClientWith(second.GetProperty("token").GetString()!);
        var third = await (await RotateAsync(secondClient, second.GetProperty("id").GetGuid(), grace: 60)).JsonAsync();
        var thirdId = third.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("/api/auth/me")).StatusCode); // in grace
        Assert.Equal(HttpStatusCode.OK, (await secondClient.GetAsync("/api/auth/me")).StatusCode);

        var thirdClient = factory.ClientWith(third.GetProperty("token").GetString()!);
        Assert.Equal(HttpStatusCode.NoContent, (await thirdClient.DeleteAsync($"/api/tokens/{thirdId}")).StatusCode);

        foreach (var client in new[] { owner, secondClient, thirdClient })
        {
            await AssertRefusedAsync(await client.GetAsync("/api/auth/me"), HttpStatusCode.Unauthorized, "revoked_token");
        }

        var statuses = (await (await factory.ClientWith((await factory.CreateTokenAsync(user.Id, "reader")).Token).GetAsync("/api/tokens")).JsonAsync())
            .GetProperty("items").EnumerateArray().Where(t => t.GetProperty("name").GetString() == "test")
            .Select(t => t.GetProperty("status").GetString()).ToList();
        Assert.Equal(["revoked", "revoked", "revoked"], statuses);
    }
}

using System.Net;
using System.Net.Http.Json;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Users;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Tests;

/// <summary>API.md §1: a service account has no password, no web sign-in, and tokens that only admins manage.</summary>
public sealed class ServiceAccountTests
{
    private static readonly string[] ChatsOnly = ["chats"];

    [Fact]
    public async Task AnAdminCreatesAServiceAccountWithoutAPasswordAndGivesItAScopedToken()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var withPassword = await admin.PostAsJsonAsync("/api/users", new { email = "dbt-cloud@service.local", role = "admin", kind = "service", password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, withPassword.StatusCode);
        Assert.True((await withPassword.JsonAsync()).GetProperty("errors").TryGetProperty("password", out _));
        Assert.Equal(HttpStatusCode.UnprocessableEntity,
            (await admin.PostAsJsonAsync("/api/users", new { email = "x@service.local", role = "user", kind = "robot" })).StatusCode);

        var created = await admin.PostAsJsonAsync("/api/users", new { email = "dbt-cloud@service.local", role = "user", kind = "service" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var account = await created.JsonAsync();
        Assert.Equal("service", account.GetProperty("kind").GetString());
        Assert.False(account.GetProperty("has_password").GetBoolean());
        var id = account.GetProperty("id").GetGuid();
        var listed = await (await admin.GetAsync("/api/users")).JsonAsync();
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), u => u.GetProperty("kind").GetString() == "service");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), u => u.GetProperty("kind").GetString() == "person");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.PatchAsJsonAsync($"/api/users/{id}", new { password = "correct horse battery" })).StatusCode);

        // Its tokens are made by an admin, naming it by its handle.
        var minted = await admin.PostAsJsonAsync("/api/tokens", new { name = "webhook", user_id = "dbt-cloud@service.local", scopes = ChatsOnly });
        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        var token = (await minted.JsonAsync()).GetProperty("token").GetString()!;
        var service = factory.ClientWith(token);
        Assert.Equal(HttpStatusCode.Created, (await service.PostAsJsonAsync("/api/chats", new { title = "from CI" })).StatusCode);

        // It manages none of its tokens itself.
        var more = await service.PostAsJsonAsync("/api/tokens", new { name = "more", scopes = ChatsOnly });
        Assert.Equal(HttpStatusCode.Forbidden, more.StatusCode);
        var tokenId = (await (await admin.GetAsync($"/api/tokens?user_id={id}")).JsonAsync()).GetProperty("items")[0].GetProperty("id").GetGuid();
        var (unscoped, _) = await factory.CreateTokenAsync(id, "unscoped");
        var full = factory.ClientWith(unscoped);
        Assert.Equal(HttpStatusCode.Forbidden, (await full.PostAsJsonAsync("/api/tokens", new { name = "more" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await full.PostAsJsonAsync($"/api/tokens/{tokenId}/rotate", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await full.DeleteAsync($"/api/tokens/{tokenId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/tokens/{tokenId}")).StatusCode);

        // The audit says whose.
        var events = await (await admin.GetAsync("/api/audit_events?type=token.created")).JsonAsync();
        Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("service account", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AServiceAccountIsRefusedAtTheWebSignInEvenWithAStoredPassword()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("ci@service.local", Role.Admin, password: "correct horse battery");
        await using (var db = factory.OpenStore())
        {
            // As if a password had been left on it: the kind alone refuses the sign-in.
            await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.Kind, UserKind.Service));
        }

        var session = await SessionClient.StartAsync(factory);
        var response = await session.SignInAsync("ci@service.local", "correct horse battery");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_credentials", (await response.JsonAsync()).GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.Http.GetAsync("/api/auth/me")).StatusCode);
    }
}

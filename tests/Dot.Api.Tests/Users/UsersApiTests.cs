using System.Net;
using System.Net.Http.Json;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

public sealed class UsersApiTests
{
    [Fact]
    public async Task AdminCreatesListsUpdatesAndDeletesUsers()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var created = await admin.PostAsJsonAsync("/api/users", new { email = "Grace@Example.com", name = "Grace", role = "modeler" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = await created.JsonAsync();
        var id = user.GetProperty("id").GetGuid();
        Assert.Equal("modeler", user.GetProperty("role").GetString());
        Assert.False(user.GetProperty("disabled").GetBoolean());
        Assert.False(user.TryGetProperty("password_hash", out _));

        var duplicate = await admin.PostAsJsonAsync("/api/users", new { email = "grace@example.COM", role = "user" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);

        var patched = await admin.PatchAsJsonAsync($"/api/users/{id}", new { name = "Grace H.", role = "user", disabled = true });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var after = await patched.JsonAsync();
        Assert.Equal("Grace H.", after.GetProperty("name").GetString());
        Assert.Equal("user", after.GetProperty("role").GetString());
        Assert.True(after.GetProperty("disabled").GetBoolean());

        var list = await (await admin.GetAsync("/api/users")).JsonAsync();
        Assert.Equal(2, list.GetProperty("items").GetArrayLength());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, list.GetProperty("next_cursor").ValueKind);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/users/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/users/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsJsonAsync($"/api/users/{id}", new { name = "x" })).StatusCode);
    }

    [Fact]
    public async Task DeletingAUserKillsTheirTokens()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var (user, _, client) = await factory.CreateCallerAsync("gone@example.com");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);

        await admin.DeleteAsync($"/api/users/{user.Id}");

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task ValidationIs422ByField()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var response = await admin.PostAsJsonAsync("/api/users", new { email = "nope", role = "owner", password = "short" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var fields = (await response.JsonAsync()).GetProperty("errors").EnumerateObject().Select(p => p.Name).Order().ToArray();
        Assert.Equal(["email", "password", "role"], fields);
        var patch = await admin.PatchAsJsonAsync($"/api/users/{Guid.NewGuid()}", new { role = "root" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, patch.StatusCode);
    }

    [Fact]
    public async Task TheLastEnabledAdminCannotBeDemotedDisabledOrDeleted()
    {
        await using var factory = new DotApiFactory();
        var (admin, _, client) = await factory.CreateCallerAsync("only@example.com", Role.Admin);

        Assert.Equal(HttpStatusCode.Conflict, (await client.PatchAsJsonAsync($"/api/users/{admin.Id}", new { role = "user" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PatchAsJsonAsync($"/api/users/{admin.Id}", new { disabled = true })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync($"/api/users/{admin.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/users")).StatusCode);
    }

    [Fact]
    public async Task ListPagesWithACursor()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        for (var i = 0; i < 4; i++)
        {
            factory.Time.Advance(TimeSpan.FromSeconds(1));
            await factory.CreateUserAsync($"u{i}@example.com");
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await (await admin.GetAsync($"/api/users?limit=2{(cursor is null ? "" : "&cursor=" + cursor)}")).JsonAsync();
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(u => u.GetProperty("email").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(["admin@example.com", "u0@example.com", "u1@example.com", "u2@example.com", "u3@example.com"], seen);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.GetAsync("/api/users?cursor=garbage")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.GetAsync("/api/users?limit=0")).StatusCode);
    }

    [Theory]
    [InlineData(Role.User)]
    [InlineData(Role.Modeler)]
    public async Task NonAdminsGet403(Role role)
    {
        await using var factory = new DotApiFactory();
        var (user, _, client) = await factory.CreateCallerAsync("someone@example.com", role);

        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/users", new { email = "x@y.z", role = "admin" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PatchAsJsonAsync($"/api/users/{user.Id}", new { role = "admin" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync($"/api/users/{user.Id}")).StatusCode);
    }
}

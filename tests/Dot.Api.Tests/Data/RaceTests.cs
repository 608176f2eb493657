using System.Net;
using System.Net.Http.Json;
using Dot.Api.Access;
using Dot.Api.Data;
using Dot.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>
/// Check-then-write changes fired together, many times: the database decides, so the rule holds however the
/// two requests interleave (API.md §1, §2). Each runs on both stores, whatever <c>DOT_TEST_STORE</c> says: SQLite
/// serializes writers, PostgreSQL (READ COMMITTED, several instances) does not, and the rules must hold on each.
/// </summary>
[Trait("Store", "any")]
public sealed class RaceTests
{
    private const int Rounds = 25;

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TwoAdminsDisablingEachOtherAtOnceLeaveOneEnabled(string store)
    {
        await using var factory = new DotApiFactory(postgres: store == "postgres");
        var (survivor, _, survivorClient) = await factory.CreateCallerAsync("admin0@example.com", Role.Admin);
        for (var round = 1; round <= Rounds; round++)
        {
            // Exactly two enabled admins: the last round's survivor and a new one; each disables the other.
            var (other, _, otherClient) = await factory.CreateCallerAsync($"admin{round}@example.com", Role.Admin);
            var answers = await Task.WhenAll(
                survivorClient.PatchAsJsonAsync($"/api/users/{other.Id}", new { disabled = true }),
                otherClient.PatchAsJsonAsync($"/api/users/{survivor.Id}", new { disabled = true }));

            var enabled = await EnabledAdminsAsync(factory);
            Assert.True(enabled.Count == 1, $"round {round}: {enabled.Count} enabled admins after {answers[0].StatusCode} / {answers[1].StatusCode}");
            Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
            Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict, HttpStatusCode.Unauthorized }));
            (survivor, survivorClient) = enabled[0] == other.Id ? (other, otherClient) : (survivor, survivorClient);
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TwoAdminsDeletingAndDemotingEachOtherAtOnceLeaveOneAdmin(string store)
    {
        await using var factory = new DotApiFactory(postgres: store == "postgres");
        var (survivor, _, survivorClient) = await factory.CreateCallerAsync("admin0@example.com", Role.Admin);
        for (var round = 1; round <= Rounds; round++)
        {
            var (other, _, otherClient) = await factory.CreateCallerAsync($"admin{round}@example.com", Role.Admin);
            var answers = await Task.WhenAll(
                survivorClient.DeleteAsync($"/api/users/{other.Id}"),
                otherClient.PatchAsJsonAsync($"/api/users/{survivor.Id}", new { role = "user" }));

            var enabled = await EnabledAdminsAsync(factory);
            Assert.True(enabled.Count == 1, $"round {round}: {enabled.Count} enabled admins after {answers[0].StatusCode} / {answers[1].StatusCode}");
            (survivor, survivorClient) = enabled[0] == other.Id ? (other, otherClient) : (survivor, survivorClient);
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TwoRotationsOfOneTokenAtOnceMakeOneSuccessor(string store)
    {
        await using var factory = new DotApiFactory(postgres: store == "postgres");
        var (user, _, client) = await factory.CreateCallerAsync("rotate@example.com");
        for (var round = 0; round < Rounds; round++)
        {
            var (_, id) = await factory.CreateTokenAsync(user.Id, $"deploy-{round}", TimeSpan.FromDays(30));
            var answers = await Task.WhenAll(
                client.PostAsJsonAsync($"/api/tokens/{id}/rotate", new { grace_period_minutes = 60 }),
                client.PostAsJsonAsync($"/api/tokens/{id}/rotate", new { grace_period_minutes = 60 }));

            var codes = answers.Select(a => a.StatusCode).Order().ToArray();
            Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], codes);
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
            var named = await db.ApiTokens.AsNoTracking().Where(t => t.Name == $"deploy-{round}").ToListAsync();
            Assert.Equal(2, named.Count); // the old token and one successor
            var successor = Assert.Single(named, t => t.Id != id);
            Assert.Equal(successor.Id, named.Single(t => t.Id == id).ReplacedBy);
            var winner = await answers.Single(a => a.StatusCode == HttpStatusCode.Created).JsonAsync();
            Assert.Equal(successor.Id, winner.GetProperty("id").GetGuid());
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TwoCreatesOfOneTokenNameAtOnceMakeOneToken(string store)
    {
        await using var factory = new DotApiFactory(postgres: store == "postgres");
        var (user, _, client) = await factory.CreateCallerAsync("names@example.com");
        for (var round = 0; round < Rounds; round++)
        {
            var answers = await Task.WhenAll(
                client.PostAsJsonAsync("/api/tokens", new { name = $"ci-{round}" }),
                client.PostAsJsonAsync("/api/tokens", new { name = $"ci-{round}" }));

            Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order().ToArray());
            await using var scope = factory.Services.CreateAsyncScope();
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<DotDbContext>().ApiTokens
                .CountAsync(t => t.UserId == user.Id && t.Name == $"ci-{round}"));
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TwoFirstRunFormsAtOnceMakeOneAdmin(string store)
    {
        for (var round = 0; round < 6; round++)
        {
            await using var factory = new DotApiFactory(postgres: store == "postgres").WithRemoteAddress("127.0.0.1");
            var first = await SessionClient.StartAsync(factory);
            var second = await SessionClient.StartAsync(factory);
            var answers = await Task.WhenAll(
                first.SendAsync(HttpMethod.Post, "/api/session/setup", new { email = "one@example.com", password = "correct horse battery" }),
                second.SendAsync(HttpMethod.Post, "/api/session/setup", new { email = "two@example.com", password = "correct horse battery" }));

            Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order().ToArray());
            await using var scope = factory.Services.CreateAsyncScope();
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<DotDbContext>().Users.CountAsync());
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task LabelsAddedAtOnceNeverPassTheFiftyLabelCap(string store)
    {
        await using var factory = new DotApiFactory(postgres: store == "postgres");
        var (_, _, client) = await factory.CreateCallerAsync("labels@example.com");
        for (var round = 0; round < 5; round++)
        {
            var chat = await client.CreateChatAsync($"round {round}");
            var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
                client.LabelAsync(chat, Enumerable.Range(0, 10).Select(j => $"l{i}-{j}").ToArray())));

            var accepted = answers.Count(a => a.StatusCode == HttpStatusCode.OK);
            Assert.Equal(5, accepted);
            Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.UnprocessableEntity, HttpStatusCode.Conflict }));
            var stored = await (await client.GetAsync($"/api/chats/{chat}")).JsonAsync();
            Assert.Equal(50, stored.GetProperty("labels").GetArrayLength());
        }
    }

    private static async Task<List<Guid>> EnabledAdminsAsync(DotApiFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<DotDbContext>().Users.AsNoTracking()
            .Where(u => u.Role == Role.Admin && !u.Disabled).Select(u => u.Id).ToListAsync();
    }
}

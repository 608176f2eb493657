using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Audit;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

public sealed class AuditTests
{
    private static async Task<JsonElement[]> EventsAsync(HttpClient admin, string query = "")
    {
        var response = await admin.GetAsync("/api/audit_events" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("items").EnumerateArray().ToArray();
    }

    [Fact]
    public async Task TokenAndUserChangesAreAudited()
    {
        await using var factory = new DotApiFactory();
        var (admin, _, adminClient) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        factory.Time.Advance(TimeSpan.FromSeconds(1));

        var created = await (await adminClient.PostAsJsonAsync("/api/users", new { email = "bob@example.com", role = "user" })).JsonAsync();
        var bob = created.GetProperty("id").GetGuid();
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        var token = await (await adminClient.PostAsJsonAsync("/api/tokens", new { name = "bob-ci", user_id = bob })).JsonAsync();
        var tokenId = token.GetProperty("id").GetGuid();
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        await adminClient.PostAsJsonAsync($"/api/tokens/{tokenId}/rotate", new { grace_period_minutes = 5 });
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        await adminClient.DeleteAsync($"/api/tokens/{tokenId}");
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        await adminClient.PatchAsJsonAsync($"/api/users/{bob}", new { role = "modeler" });
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        await adminClient.PatchAsJsonAsync($"/api/users/{bob}", new { disabled = true });
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        await adminClient.DeleteAsync($"/api/users/{bob}");

        var events = await EventsAsync(adminClient, $"?user_id={bob}");
        var types = events.Select(e => e.GetProperty("type").GetString()!).ToArray();
        Assert.Equal(["user.deleted", "user.disabled", "user.role_changed", "token.revoked"], types[..4]);
        Assert.Equal(["token.created", "token.created", "token.rotated"], types[4..7].Order()); // rotation: one instant
        Assert.Equal("user.created", types[7]);
        Assert.Equal(8, types.Length);
        Assert.All(events, e => Assert.Equal(admin.Id, e.GetProperty("actor_id").GetGuid()));
        Assert.Equal("user → modeler", events.Single(e => e.GetProperty("type").GetString() == "user.role_changed").GetProperty("detail").GetString());
        var secret = token.GetProperty("token").GetString()!;
        var all = await adminClient.GetStringAsync("/api/audit_events?limit=200");
        Assert.DoesNotContain(secret, all, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[10..], all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARowATokenCausedNamesThatTokensIdAndHint()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var ada = await factory.CreateUserAsync("ada@example.com");
        var (acting, actingId) = await factory.CreateTokenAsync(ada.Id, "ada-laptop");
        var client = factory.ClientWith(acting);

        var created = await client.PostAsJsonAsync("/api/tokens", new { name = "ada-ci" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var minted = await created.JsonAsync();
        var mintedId = minted.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/tokens/{mintedId}")).StatusCode); // the cached principal now

        var events = await EventsAsync(admin, $"?user_id={ada.Id}");
        var byToken = events.Where(e => e.GetProperty("target").GetString() == mintedId.ToString()).ToArray();
        Assert.Equal(["token.created", "token.revoked"], byToken.Select(e => e.GetProperty("type").GetString()).Order());
        Assert.All(byToken, e =>
        {
            Assert.Equal(ada.Id, e.GetProperty("actor_id").GetGuid());
            Assert.Equal(actingId, e.GetProperty("actor_token_id").GetGuid());
            Assert.Equal(acting[..10], e.GetProperty("actor_token_hint").GetString());
        });

        // The acting token's own creation had no caller (as from the command line): no token named.
        var own = events.Single(e => e.GetProperty("target").GetString() == actingId.ToString());
        Assert.Equal(JsonValueKind.Null, own.GetProperty("actor_token_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, own.GetProperty("actor_token_hint").ValueKind);
        var text = await admin.GetStringAsync("/api/audit_events?limit=200");
        Assert.DoesNotContain(acting[10..], text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RowsAWebSessionOrTheCommandLineCausedNameNoToken()
    {
        const string password = "correct horse battery";
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var ada = await factory.CreateUserAsync("ada@example.com", Role.User, password);
        var session = await SessionClient.StartAsync(factory);
        Assert.Equal(HttpStatusCode.OK, (await session.SignInAsync("ada@example.com", password)).StatusCode);

        var bySession = await (await session.SendAsync(HttpMethod.Post, "/api/tokens", new { name = "from-the-page" })).JsonAsync();
        var cli = await ServerProcess.RunAsync(factory, null, "tokens", "create", "--email", "ada@example.com", "--name", "from-the-cli");
        Assert.Equal(0, cli.ExitCode);

        var created = await EventsAsync(admin, $"?type=token.created&user_id={ada.Id}");
        var page = created.Single(e => e.GetProperty("target").GetString() == bySession.GetProperty("id").GetString());
        Assert.Equal(ada.Id, page.GetProperty("actor_id").GetGuid());
        var command = created.Single(e => e.GetProperty("detail").GetString()!.Contains("\"from-the-cli\"", StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Null, command.GetProperty("actor_id").ValueKind);
        Assert.All(new[] { page, command }, e =>
        {
            Assert.Equal(JsonValueKind.Null, e.GetProperty("actor_token_id").ValueKind);
            Assert.Equal(JsonValueKind.Null, e.GetProperty("actor_token_hint").ValueKind);
        });
    }

    [Fact]
    public async Task FailedAuthenticationIsCountedWithAddressReasonAndHintButNeverTheSecret()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var unknown = TokenFormat.Generate();
        for (var i = 0; i < 3; i++)
        {
            await factory.ClientWith(unknown).GetAsync("/api/auth/me");
        }

        await factory.ClientWith("ghp_notadottoken_secretish").GetAsync("/api/auth/me");
        await factory.Services.GetRequiredService<AuthFailureAudit>().FlushAsync(CancellationToken.None);

        var failures = await EventsAsync(admin, "?type=auth.failed");
        var unknownEvent = failures.Single(e => e.GetProperty("detail").GetString() == "unknown_token");
        Assert.Equal(3, unknownEvent.GetProperty("count").GetInt32());
        Assert.Equal(unknown[..10], unknownEvent.GetProperty("target").GetString());
        var malformed = failures.Single(e => e.GetProperty("detail").GetString() == "malformed_token");
        Assert.Equal(JsonValueKind.Null, malformed.GetProperty("target").ValueKind);
        var text = await admin.GetStringAsync("/api/audit_events?limit=200");
        Assert.DoesNotContain(unknown[10..], text, StringComparison.Ordinal);
        Assert.DoesNotContain("secretish", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FiltersAndPagingWork()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        for (var i = 0; i < 5; i++)
        {
            factory.Time.Advance(TimeSpan.FromMinutes(1));
            await admin.PostAsJsonAsync("/api/tokens", new { name = $"t{i}" });
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await (await admin.GetAsync($"/api/audit_events?type=token.created&limit=2{(cursor is null ? "" : "&cursor=" + cursor)}")).JsonAsync();
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("detail").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(6, seen.Count); // five here and the caller's own
        Assert.EndsWith("\"t4\"", seen[0], StringComparison.Ordinal); // newest first
        var window = await EventsAsync(admin, "?type=token.created&from=2026-01-15T12:02:00Z&to=2026-01-15T12:04:00Z");
        Assert.Equal(2, window.Length);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.GetAsync("/api/audit_events?type=nope")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.GetAsync("/api/audit_events?from=yesterday")).StatusCode);
    }

    [Fact]
    public async Task OnlyAdminsReadTheTrail()
    {
        await using var factory = new DotApiFactory();
        var (_, _, modeler) = await factory.CreateCallerAsync("m@example.com", Role.Modeler);

        Assert.Equal(HttpStatusCode.Forbidden, (await modeler.GetAsync("/api/audit_events")).StatusCode);
    }

    [Theory]
    [Trait("Store", "any")] // both stores, whatever DOT_TEST_STORE says: once is enough
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task FailureCountsOfTwoInstancesOnOneKeyAddUp(string store)
    {
        // Two instances behind one address count the same (address, reason, hint) in the same interval and write
        // their batches at once, many times: every failure is in the trail once, and no write fails.
        await using var first = new DotApiFactory(postgres: store == "postgres");
        var (_, _, admin) = await first.CreateCallerAsync("admin@example.com", Role.Admin);
        await using var second = new DotApiFactory(first.IsPostgres).WithSetting("ConnectionStrings:Dot", first.ConnectionString);
        var audits = new[] { first, second }.Select(f => f.Services.GetRequiredService<AuthFailureAudit>()).ToArray();
        var address = IPAddress.Parse("203.0.113.9");
        var expected = 0;
        for (var round = 1; round <= 10; round++)
        {
            for (var i = 0; i < round; i++)
            {
                audits[0].Record(address, "unknown_token", "dot-abc123");
                audits[1].Record(address, "unknown_token", "dot-abc123");
                audits[1].Record(address, "unknown_token", "dot-abc123");
            }

            expected += 3 * round;
            await Task.WhenAll(audits.Select(a => Task.Run(() => a.FlushAsync(CancellationToken.None))));
        }

        var failures = await EventsAsync(admin, "?type=auth.failed&limit=200");
        Assert.All(failures, e => Assert.Equal(("203.0.113.9", "unknown_token", "dot-abc123"),
            (e.GetProperty("address").GetString(), e.GetProperty("detail").GetString(), e.GetProperty("target").GetString())));
        Assert.Equal(expected, failures.Sum(e => e.GetProperty("count").GetInt32()));
    }
}

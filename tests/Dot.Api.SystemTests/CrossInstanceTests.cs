using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Data;
using Dot.Api.Data.Postgres;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Dot.Api.Tests;

/// <summary>
/// API.md §7 with PostgreSQL: several instances on one database. A revocation, a rotation without grace, a demotion,
/// a disable or a delete made on one instance (or by the CLI) is seen by every other within a second, by
/// notification: the other instance's clock is frozen, so its 5-second cache window never ends in these tests. And
/// the failed-authentication budget is one for the deployment.
/// </summary>
[Collection(TimedTests.Name)]
[Trait("Store", "postgres-always")]
public sealed class CrossInstanceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);

    /// <summary>Two servers on one database, both listening.</summary>
    private static async Task<(DotApiFactory A, DotApiFactory B)> TwoInstancesAsync(Func<DotApiFactory, DotApiFactory>? configureB = null)
    {
        var a = new DotApiFactory(postgres: true);
        var b = new DotApiFactory(postgres: true).WithSetting("ConnectionStrings:Dot", a.ConnectionString);
        b = configureB?.Invoke(b) ?? b;
        await ListeningAsync(a);
        await ListeningAsync(b);
        return (a, b);
    }

    private static NotificationListenerStatus Listener(DotApiFactory factory) => factory.Listener();

    private static Task ListeningAsync(DotApiFactory factory, long connects = 1) => factory.ListeningAsync(connects);

    /// <summary>
    /// Polls until <paramref name="seen"/> holds; how long that took from <paramref name="since"/> (started as the
    /// change was asked for, so the figure includes the changing request itself, and is at most what it says).
    /// </summary>
    private async Task<TimeSpan> SeenAsync(string what, Stopwatch since, Func<Task<bool>> seen)
    {
        var answered = since.Elapsed;
        await Eventually.TrueAsync(seen, TimeSpan.FromSeconds(5) - answered, () => $"{what} not seen after {since.ElapsedMilliseconds} ms",
            every: TimeSpan.FromMilliseconds(2));

        var elapsed = since.Elapsed;
        output.WriteLine($"{what} seen on B after {elapsed.TotalMilliseconds:0} ms ({(elapsed - answered).TotalMilliseconds:0} ms after the change was answered)");
        Assert.True(elapsed < Bound, $"{what} seen on B after {elapsed.TotalMilliseconds:0} ms, beyond the 1 s bound");
        return elapsed;
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path = "/api/auth/me")
        => (await client.GetAsync(path)).StatusCode;

    private static async Task<(Dot.Api.Users.User User, string Token, Guid Id, HttpClient Client)> CallerAsync(DotApiFactory factory, string email)
    {
        var user = await factory.CreateUserAsync(email);
        var (token, id) = await factory.CreateTokenAsync(user.Id);
        return (user, token, id, factory.ClientWith(token));
    }

    private static long Lookups(DotApiFactory factory) => factory.Services.GetRequiredService<TokenLookup>().Lookups;

    [SkippableFact]
    public async Task ARevocationOnOneInstanceIsSeenOnAnotherWithinASecond()
    {
        var (a, b) = await TwoInstancesAsync();
        await using var _ = a;
        await using var __ = b;
        var (_, token, tokenId, onA) = await CallerAsync(a, "revoked@example.com");
        var onB = b.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));
        Assert.Equal(1, Lookups(b)); // cached on B
        var since = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.NoContent, (await onA.DeleteAsync($"/api/tokens/{tokenId}")).StatusCode);
        await SeenAsync("revocation", since, async () => await StatusAsync(onB) == HttpStatusCode.Unauthorized);
        Assert.Equal(2, Lookups(b)); // evicted by the notice and read again: not the cache window, B's clock never moved
    }

    [SkippableFact]
    public async Task ARotationWithoutGraceOnOneInstanceStopsTheOldTokenOnAnother()
    {
        var (a, b) = await TwoInstancesAsync();
        await using var _ = a;
        await using var __ = b;
        var (_, token, tokenId, onA) = await CallerAsync(a, "rotated@example.com");
        var onB = b.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));

        var since = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Created, (await onA.PostAsJsonAsync($"/api/tokens/{tokenId}/rotate", new { })).StatusCode);
        await SeenAsync("rotation without grace", since, async () => await StatusAsync(onB) == HttpStatusCode.Unauthorized);
    }

    [SkippableFact]
    public async Task ARotationsGraceEndsOnAnotherInstanceByItsClock()
    {
        // A cache window of an hour on B: the grace's end is seen because every hit checks it, not because B re-reads.
        var (a, b) = await TwoInstancesAsync(b => b.WithSetting("Dot:Tokens:CacheSeconds", "3600"));
        await using var _ = a;
        await using var __ = b;
        var (_, token, tokenId, onA) = await CallerAsync(a, "grace@example.com");
        var onB = b.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));

        var since = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Created, (await onA.PostAsJsonAsync($"/api/tokens/{tokenId}/rotate", new { grace_period_minutes = 10 })).StatusCode);
        await SeenAsync("rotation with grace (re-read)", since, async () =>
            await StatusAsync(onB) == HttpStatusCode.OK && Lookups(b) == 2);

        b.Time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));
        b.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(onB));
        Assert.Equal(2, Lookups(b)); // decided on the cached entry
    }

    [SkippableFact]
    public async Task ADemotionOnOneInstanceClosesAdminRoutesOnAnother()
    {
        var (a, b) = await TwoInstancesAsync();
        await using var _ = a;
        await using var __ = b;
        var (_, _, adminOnA) = await a.CreateCallerAsync("admin@example.com", Role.Admin);
        var (demoted, token, _) = await a.CreateCallerAsync("demoted@example.com", Role.Admin);
        var onB = b.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB, "/api/users"));

        var since = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await adminOnA.PatchAsJsonAsync($"/api/users/{demoted.Id}", new { role = "user" })).StatusCode);
        await SeenAsync("demotion", since, async () => await StatusAsync(onB, "/api/users") == HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));
    }

    [SkippableFact]
    public async Task DisablingOnOneInstanceRefusesTheUsersTokensOnAnother()
    {
        var (a, b) = await TwoInstancesAsync();
        await using var _ = a;
        await using var __ = b;
        var (_, _, adminOnA) = await a.CreateCallerAsync("admin@example.com", Role.Admin);
        var (user, token, _) = await a.CreateCallerAsync("disabled@example.com");
        var onB = b.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));

        var since = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await adminOnA.PatchAsJsonAsync($"/api/users/{user.Id}", new { disabled = true })).StatusCode);
        await SeenAsync("disable", since, async () => await StatusAsync(onB) == HttpStatusCode.Unauthorized);
    }

    [SkippableFact]
    public async Task DeletingOnOneInstanceRefusesTheUsersTokensOnAnother()
    {
        var (a, b) = await TwoInstancesAsync();
        await using var _ = a;
        await using var __ = b;
        var (_, _, adminOnA) = await a.CreateCallerAsync("admin@example.com", Role.Admin);
        var (user, token, _) = await a.CreateCallerAsync("deleted@example.com");
        var onB = b.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));

        var since = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.NoContent, (await adminOnA.DeleteAsync($"/api/users/{user.Id}")).StatusCode);
        await SeenAsync("delete", since, async () => await StatusAsync(onB) == HttpStatusCode.Unauthorized);
    }

    [SkippableFact]
    public async Task ARevocationByTheCliIsSeenByARunningInstanceWithinASecond()
    {
        var (a, b) = await TwoInstancesAsync();
        await using var _ = a;
        await using var __ = b;
        // The CLI runs on the real clock: B's is set an hour past it (a process start is slow on a busy machine), so the
        // CLI's revocation is in B's past.
        b.Time.SetUtcNow(DateTimeOffset.UtcNow.AddHours(1));
        var user = await a.CreateUserAsync("cli@example.com");
        var (token, id) = await a.CreateTokenAsync(user.Id);
        var onB = b.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));

        var revoke = await ServerProcess.RunAsync(a.DatabasePath, null, [.. a.StoreArguments, "tokens", "revoke", "--id", id.ToString()]);
        Assert.True(revoke.ExitCode == 0, revoke.Stderr);
        var since = Stopwatch.StartNew(); // from the command's end: starting a process takes longer than the bound
        await SeenAsync("revocation by the CLI", since, async () => await StatusAsync(onB) == HttpStatusCode.Unauthorized);
    }

    [SkippableFact]
    public async Task AfterTheListenerLosesItsConnectionItReconnectsAndForgetsWhatItMayHaveMissed()
    {
        var (a, b) = await TwoInstancesAsync();
        await using var _ = a;
        await using var __ = b;
        var (_, token, tokenId, onA) = await CallerAsync(a, "reconnect@example.com");
        var onB = b.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB));

        // A change whose notice B never gets (written behind every instance's back), then B's listener is cut off.
        await using (var db = a.OpenStore())
        {
            await db.ApiTokens.Where(t => t.Id == tokenId).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, a.Time.GetUtcNow().UtcDateTime));
        }

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(onB)); // still cached: nothing told B
        var since = Stopwatch.StartNew();
        await using (var db = a.OpenStore())
        {
            var ended = await db.Database.SqlQuery<bool>($"""
                SELECT pg_terminate_backend(pid) AS "Value" FROM pg_stat_activity
                WHERE application_name = {NotificationListener.ApplicationName} AND datname = current_database()
                """).ToListAsync();
            Assert.Equal(2, ended.Count(e => e)); // A's listener and B's
        }

        await SeenAsync("a change missed while disconnected", since, async () => await StatusAsync(onB) == HttpStatusCode.Unauthorized);
        await ListeningAsync(b, connects: 2);
        Assert.Equal(1, Listener(b).Disconnects);
        Assert.Contains("Lost the PostgreSQL listening connection", b.Logs.AllText, StringComparison.Ordinal);

        // And after the reconnection notices arrive again.
        var (_, second, secondId, secondOnA) = await CallerAsync(a, "reconnect2@example.com");
        var secondOnB = b.ClientWith(second);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(secondOnB));
        since.Restart();
        Assert.Equal(HttpStatusCode.NoContent, (await secondOnA.DeleteAsync($"/api/tokens/{secondId}")).StatusCode);
        await SeenAsync("revocation after reconnecting", since, async () => await StatusAsync(secondOnB) == HttpStatusCode.Unauthorized);
    }

    private static async Task<HttpContext> SendAsync(DotApiFactory factory, string address, string token)
        => await factory.Server.SendAsync(context =>
        {
            context.Request.Method = "GET";
            context.Request.Path = "/api/auth/me";
            context.Connection.RemoteIpAddress = IPAddress.Parse(address);
            context.Request.Headers["API-KEY"] = token;
        });

    [SkippableFact]
    public async Task GuessesSpreadOverThreeInstancesMeetOneBudget()
    {
        const int limit = 10;
        var first = new DotApiFactory(postgres: true).WithSetting("Dot:Auth:MaxFailuresPerMinute", $"{limit}");
        await using var _ = first;
        await using var second = new DotApiFactory(postgres: true).WithSetting("Dot:Auth:MaxFailuresPerMinute", $"{limit}")
            .WithSetting("ConnectionStrings:Dot", first.ConnectionString);
        await using var third = new DotApiFactory(postgres: true).WithSetting("Dot:Auth:MaxFailuresPerMinute", $"{limit}")
            .WithSetting("ConnectionStrings:Dot", first.ConnectionString);
        DotApiFactory[] instances = [first, second, third];
        foreach (var instance in instances)
        {
            await ListeningAsync(instance);
        }

        var (_, good, _) = await first.CreateCallerAsync("victim@example.com");
        var bad = TokenFormat.Generate();
        const string attacker = "203.0.113.9";

        // Round-robin, a guess every 20 ms, until one is throttled. One instance alone lets limit + 1 through.
        var refused = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; ; i++)
        {
            var status = (await SendAsync(instances[i % 3], attacker, bad)).Response.StatusCode;
            if (status == 429)
            {
                break;
            }

            Assert.Equal(401, status);
            refused++;
            Assert.True(refused <= 3 * (limit + 1), "each instance kept a budget of its own");
            await Task.Delay(20);
        }

        output.WriteLine($"{refused} guesses refused with 401 over three instances before the first 429 (limit {limit}: one budget lets {limit + 1}), in {clock.ElapsedMilliseconds} ms");
        Assert.InRange(refused, limit + 1, limit + 1 + 6); // at most ~a sharing interval's worth of slack

        // Within the second's slack every instance has every count: each refuses a correct token too (asking changes
        // nothing, a success is not counted).
        await Eventually.TrueAsync(async () =>
        {
            foreach (var instance in instances)
            {
                if ((await SendAsync(instance, attacker, good)).Response.StatusCode != 429)
                {
                    return false;
                }
            }

            return true;
        }, Bound, $"an instance still accepts a correct token from {attacker} after {Bound.TotalMilliseconds} ms", every: TimeSpan.FromMilliseconds(10));
        foreach (var instance in instances)
        {
            Assert.Equal(429, (await SendAsync(instance, attacker, good)).Response.StatusCode); // a correct token too
            Assert.Equal(200, (await SendAsync(instance, "198.51.100.4", good)).Response.StatusCode); // another address is not throttled
        }

        // Every refusal reaches the two other instances (the last ones may still be on their way: sent every 100 ms, sealed, opened).
        await Eventually.TrueAsync(() => Task.FromResult(instances.Sum(i => i.Services.GetRequiredService<FailureSharing>().ReceivedFailures) >= 2 * refused - 3),
            Bound, $"the instances did not receive the other instances' {refused} refusals within {Bound.TotalMilliseconds} ms");
    }

    [Fact]
    public void SharedCountsAreSplitBelowPostgresPayloadLimit()
    {
        var counts = Enumerable.Range(0, 2000).Select(i => (new FailureThrottle.ClientKey(ulong.MaxValue - (ulong)i, ulong.MaxValue), i + 1)).ToList();
        var payloads = FailureSharing.Payloads("0123456789abcdef0123456789abcdef", counts);
        Assert.True(payloads.Count > 1);
        Assert.All(payloads, p => Assert.True(System.Text.Encoding.UTF8.GetByteCount(p) <= NoticeSeal.MaxBodyBytes)); // sealed, below PostgreSQL's limit: NoticeSealTests
        Assert.All(payloads, p => Assert.StartsWith("0123456789abcdef0123456789abcdef ", p, StringComparison.Ordinal));
        Assert.Equal(counts.Count, payloads.Sum(p => p.Split(' ').Length - 1));
        Assert.True(FailureThrottle.ClientKey.TryParse(counts[5].Item1.ToString(), out var back) && back == counts[5].Item1);
    }
}

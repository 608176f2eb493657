using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Data;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Dot.Api.Tests;

/// <summary>
/// API.md §7: a notice between instances that no instance of this deployment sent changes nothing. The intruder is a
/// PostgreSQL role that may only connect to the database (as any role may unless <c>CONNECT</c> is revoked from
/// <c>PUBLIC</c>): it can <c>NOTIFY</c> on the instances' channels and <c>LISTEN</c> to them, and nothing else.
/// </summary>
[Trait("Store", "postgres-always")]
public sealed class NoticeAuthenticationTests
{
    private static NotificationListenerStatus Listener(DotApiFactory factory) => factory.Listener();

    private static long Lookups(DotApiFactory factory) => factory.Services.GetRequiredService<TokenLookup>().Lookups;

    private static Task ListeningAsync(DotApiFactory factory) => factory.ListeningAsync();

    /// <summary>Until the listener has received <paramref name="count"/> notifications past <paramref name="before"/> (opened or not).</summary>
    private static async Task ReceivedAsync(DotApiFactory factory, long before, int count = 1)
    {
        var status = Listener(factory);
        await Eventually.TrueAsync(() => status.Received >= before + count, TimeSpan.FromSeconds(10),
            () => $"{status.Received - before} of {count} notifications received", every: TimeSpan.FromMilliseconds(5));
    }

    private static async Task<int> StatusAsync(DotApiFactory factory, string address, string token)
        => (await factory.Server.SendAsync(context =>
        {
            context.Request.Method = "GET";
            context.Request.Path = "/api/auth/me";
            context.Connection.RemoteIpAddress = IPAddress.Parse(address);
            context.Request.Headers["API-KEY"] = token;
        })).Response.StatusCode;

    [SkippableFact]
    public async Task ForgedFailureCountsThrottleNobody()
    {
        await using var factory = new DotApiFactory(postgres: true).WithSetting("Dot:Auth:MaxFailuresPerMinute", "10");
        await ListeningAsync(factory);
        var (_, token, client) = await factory.CreateCallerAsync("victim@example.com");
        await using var intruder = await Intruder.ConnectAsync(factory);

        // The plain format the instances spoke before notices were sealed: 127.0.0.1, and the unknown address a test
        // client has, each "refused" a million times by an instance that does not exist.
        var before = Listener(factory).Received;
        await intruder.NotifyAsync(NotificationChannels.AuthFailures,
            "0123456789abcdef0123456789abcdef 0.ffff7f000001:1000000 ffffffffffffffff.ffffffffffffffff:1000000");
        await ReceivedAsync(factory, before);

        Assert.Equal(200, await StatusAsync(factory, "127.0.0.1", token));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(0, factory.Services.GetRequiredService<FailureSharing>().ReceivedFailures);
        Assert.Equal(1, Listener(factory).Rejected);
        Assert.DoesNotContain("0.ffff7f000001", factory.Logs.AllText, StringComparison.Ordinal); // a dropped payload is never logged
        Assert.Contains("Dropped 1 PostgreSQL notifications", factory.Logs.AllText, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ForgedChangeNoticesEvictNothing()
    {
        await using var factory = new DotApiFactory(postgres: true);
        await ListeningAsync(factory);
        var user = await factory.CreateUserAsync("cached@example.com");
        var (token, tokenId) = await factory.CreateTokenAsync(user.Id);
        var client = factory.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(1, Lookups(factory)); // cached; the server's clock is frozen, so only an eviction re-reads it
        byte[] hash;
        await using (var db = factory.OpenStore())
        {
            hash = await db.ApiTokens.Where(t => t.Id == tokenId).Select(t => t.Hash).SingleAsync();
        }

        await using var intruder = await Intruder.ConnectAsync(factory);
        var before = Listener(factory).Received;
        await intruder.NotifyAsync(NotificationChannels.Changes, ChangeNotice.Token(hash).Payload);
        await intruder.NotifyAsync(NotificationChannels.Changes, ChangeNotice.User(user.Id).Payload);
        await ReceivedAsync(factory, before, 2);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(1, Lookups(factory)); // still the cached entry: nothing was evicted
        Assert.Equal(2, Listener(factory).Rejected);
    }

    [SkippableFact]
    public async Task AGenuineChangeNoticeSentAgainEvictsNothing()
    {
        await using var factory = new DotApiFactory(postgres: true);
        await ListeningAsync(factory);
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var user = await factory.CreateUserAsync("renamed@example.com");
        var (token, _) = await factory.CreateTokenAsync(user.Id);
        var client = factory.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        await using var intruder = await Intruder.ConnectAsync(factory);
        await intruder.ListenAsync(NotificationChannels.Changes);

        // A genuine change: its notice is captured by the intruder, and evicts the user's token here.
        var before = Listener(factory).Received;
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"/api/users/{user.Id}", new { name = "Renamed" })).StatusCode);
        var captured = await intruder.NextAsync(NotificationChannels.Changes);
        await ReceivedAsync(factory, before);
        Assert.DoesNotContain(user.Id.ToString(), captured, StringComparison.OrdinalIgnoreCase); // sealed: nothing to read either
        var lookups = Lookups(factory);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(lookups + 1, Lookups(factory)); // read again after the change, and cached again
        Assert.Equal(0, Listener(factory).Rejected);

        before = Listener(factory).Received;
        await intruder.NotifyAsync(NotificationChannels.Changes, captured);
        await ReceivedAsync(factory, before);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(lookups + 1, Lookups(factory)); // the replay evicted nothing
        Assert.Equal(1, Listener(factory).Rejected);
    }

    [SkippableFact]
    public async Task GenuineFailureCountsSentAgainCountOnce()
    {
        const int limit = 10;
        const int failures = 6;
        const string attacker = "203.0.113.7";
        await using var a = new DotApiFactory(postgres: true).WithSetting("Dot:Auth:MaxFailuresPerMinute", $"{limit}");
        await using var b = new DotApiFactory(postgres: true).WithSetting("Dot:Auth:MaxFailuresPerMinute", $"{limit}")
            .WithSetting("ConnectionStrings:Dot", a.ConnectionString);
        await ListeningAsync(a);
        await ListeningAsync(b);
        var (_, good, _) = await a.CreateCallerAsync("victim@example.com");
        await using var intruder = await Intruder.ConnectAsync(a);
        await intruder.ListenAsync(NotificationChannels.AuthFailures);

        var bad = TokenFormat.Generate();
        for (var i = 0; i < failures; i++)
        {
            Assert.Equal(401, await StatusAsync(a, attacker, bad));
        }

        // A's counts reach B (one notice, or a few if the failures straddled a send), and the intruder.
        var sharing = b.Services.GetRequiredService<FailureSharing>();
        await Eventually.TrueAsync(() => sharing.ReceivedFailures >= failures, TimeSpan.FromSeconds(10),
            () => $"B received {sharing.ReceivedFailures} of A's {failures} failures", every: TimeSpan.FromMilliseconds(5));

        var captured = new List<string>();
        while (intruder.TryTake(out var payload))
        {
            captured.Add(payload);
        }

        Assert.NotEmpty(captured);
        Assert.All(captured, p => Assert.DoesNotContain("203.0.113.7", p, StringComparison.Ordinal));

        // Sent again three times: with each counted, B's window would hold 6 + 18, past the limit.
        var before = Listener(b).Received;
        for (var i = 0; i < 3; i++)
        {
            foreach (var payload in captured)
            {
                await intruder.NotifyAsync(NotificationChannels.AuthFailures, payload);
            }
        }

        await ReceivedAsync(b, before, 3 * captured.Count);
        Assert.Equal(200, await StatusAsync(b, attacker, good));
        Assert.Equal(failures, sharing.ReceivedFailures);
        Assert.Equal(3 * captured.Count, Listener(b).Rejected);
    }

    /// <summary>
    /// A login role of its own with nothing but <c>CONNECT</c> on the test's database (<c>CONNECT</c> revoked from
    /// <c>PUBLIC</c>, as docs/scale-out.md says to), connected. It cannot read the key ring: checked at connect.
    /// </summary>
    private sealed class Intruder : IAsyncDisposable
    {
        private readonly string _role;
        private readonly string _database;
        private readonly PostgresCluster _cluster;
        private readonly NpgsqlConnection _connection;
        private readonly Queue<(string Channel, string Payload)> _heard = new();

        private Intruder(PostgresCluster cluster, string database, string role, NpgsqlConnection connection)
        {
            _cluster = cluster;
            _database = database;
            _role = role;
            _connection = connection;
            _connection.Notification += (_, e) =>
            {
                lock (_heard)
                {
                    _heard.Enqueue((e.Channel, e.Payload));
                }
            };
        }

        public static async Task<Intruder> ConnectAsync(DotApiFactory factory)
        {
            var cluster = await SharedPostgres.GetAsync();
            var database = factory.PostgresDatabase!;
            var role = "intruder_" + Guid.NewGuid().ToString("N")[..12];
            var password = "pw-" + Guid.NewGuid().ToString("N");
            await cluster.ExecuteAsync(database, $"""
                CREATE ROLE {role} LOGIN PASSWORD '{password}';
                REVOKE CONNECT ON DATABASE {database} FROM PUBLIC;
                GRANT CONNECT ON DATABASE {database} TO {role};
                """);
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cluster.ConnectionString(database))
            {
                Username = role,
                Password = password,
            }.ConnectionString);
            await connection.OpenAsync();
            var intruder = new Intruder(cluster, database, role, connection);
            await using var read = new NpgsqlCommand("SELECT count(*) FROM data_protection_keys", connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => read.ExecuteScalarAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
            return intruder;
        }

        public async Task NotifyAsync(string channel, string payload)
        {
            await using var command = new NpgsqlCommand("SELECT pg_notify($1, $2)", _connection);
            command.Parameters.Add(new NpgsqlParameter { Value = channel });
            command.Parameters.Add(new NpgsqlParameter { Value = payload });
            await command.ExecuteNonQueryAsync();
        }

        public async Task ListenAsync(string channel)
        {
            await using var command = new NpgsqlCommand($"LISTEN {channel}", _connection);
            await command.ExecuteNonQueryAsync();
        }

        /// <summary>The next notification heard on <paramref name="channel"/>, waiting for it up to 10 s.</summary>
        public async Task<string> NextAsync(string channel)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                lock (_heard)
                {
                    if (_heard.TryDequeue(out var heard) && heard.Channel == channel)
                    {
                        return heard.Payload;
                    }
                }

                var left = TimeSpan.FromSeconds(10) - waited.Elapsed;
                Assert.True(left > TimeSpan.Zero, $"nothing heard on {channel}");
                await _connection.WaitAsync(left);
            }
        }

        /// <summary>A notification already heard (reading what the connection has buffered), if any.</summary>
        public bool TryTake(out string payload)
        {
            // A round trip makes the connection read whatever notifications arrived before it.
            using (var ping = new NpgsqlCommand("SELECT 1", _connection))
            {
                ping.ExecuteScalar();
            }

            lock (_heard)
            {
                payload = _heard.TryDequeue(out var heard) ? heard.Payload : "";
                return payload.Length > 0;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _connection.DisposeAsync();
            await _cluster.ExecuteAsync("postgres", $"""
                DO $$ BEGIN
                  IF EXISTS (SELECT FROM pg_database WHERE datname = '{_database}') THEN
                    EXECUTE 'REVOKE CONNECT ON DATABASE {_database} FROM {_role}';
                  END IF;
                END $$;
                DROP ROLE {_role};
                """);
        }
    }
}

/// <summary>The seal itself: what it opens, and everything it refuses.</summary>
public sealed class NoticeSealTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);

    private static (NoticeSeal Seal, FakeTimeProvider Clock) NewSeal(IDataProtectionProvider? provider = null, int? maxRemembered = null)
    {
        var clock = new FakeTimeProvider(Start);
        provider ??= new EphemeralDataProtectionProvider();
        return (maxRemembered is { } max ? new NoticeSeal(provider, clock, max) : new NoticeSeal(provider, clock), clock);
    }

    [Fact]
    public void ASealedNoticeOpensOnItsChannel()
    {
        var (seal, _) = NewSeal();
        var payload = seal.Seal(NotificationChannels.Changes, "t:00ff");
        Assert.True(seal.TryOpen(NotificationChannels.Changes, payload, out var body));
        Assert.Equal("t:00ff", body);
        Assert.DoesNotContain("00ff", payload, StringComparison.Ordinal);
    }

    [Fact]
    public void ANoticeSealedWithAnotherKeyRingIsRefused()
    {
        var (theirs, _) = NewSeal();
        var (ours, _) = NewSeal();
        Assert.False(ours.TryOpen(NotificationChannels.Changes, theirs.Seal(NotificationChannels.Changes, "t:00ff"), out _));
    }

    [Fact]
    public void ANoticeSealedForAnotherChannelIsRefused()
    {
        var (seal, _) = NewSeal();
        Assert.False(seal.TryOpen(NotificationChannels.AuthFailures, seal.Seal(NotificationChannels.Changes, "x 1.2:3"), out _));
    }

    [Fact]
    public void ATamperedNoticeIsRefused()
    {
        var (seal, _) = NewSeal();
        var payload = seal.Seal(NotificationChannels.Changes, "u:" + Guid.NewGuid());
        var middle = payload.Length / 2;
        var tampered = payload[..middle] + (payload[middle] == 'A' ? 'B' : 'A') + payload[(middle + 1)..];
        Assert.False(seal.TryOpen(NotificationChannels.Changes, tampered, out _));
        Assert.True(seal.TryOpen(NotificationChannels.Changes, payload, out _)); // the genuine one still opens: the refusal remembered nothing
    }

    [Theory]
    [InlineData("")]
    [InlineData("t:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0123456789abcdef0123456789abcdef 0.ffff7f000001:1000000")]
    [InlineData("not base64url!")]
    [InlineData("AAAA")]
    public void APlainOrMalformedPayloadIsRefused(string payload)
    {
        var (seal, _) = NewSeal();
        Assert.False(seal.TryOpen(NotificationChannels.Changes, payload, out _));
    }

    [Fact]
    public void ANoticeIsOpenedOnceOnly()
    {
        var (seal, _) = NewSeal();
        var payload = seal.Seal(NotificationChannels.Changes, "t:00ff");
        Assert.True(seal.TryOpen(NotificationChannels.Changes, payload, out _));
        Assert.False(seal.TryOpen(NotificationChannels.Changes, payload, out _));
        Assert.True(seal.TryOpen(NotificationChannels.Changes, seal.Seal(NotificationChannels.Changes, "t:00ff"), out _)); // the same body sealed again is new
    }

    [Fact]
    public void ANoticeOutsideTheWindowIsRefused()
    {
        var provider = new EphemeralDataProtectionProvider();
        var (sender, senderClock) = NewSeal(provider);
        var (receiver, receiverClock) = NewSeal(provider);
        var old = sender.Seal(NotificationChannels.Changes, "t:01");
        var recent = sender.Seal(NotificationChannels.Changes, "t:02");
        receiverClock.Advance(NoticeSeal.Window);
        Assert.True(receiver.TryOpen(NotificationChannels.Changes, recent, out _)); // at the window's edge
        receiverClock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(receiver.TryOpen(NotificationChannels.Changes, old, out _));

        senderClock.Advance(2 * NoticeSeal.Window + TimeSpan.FromSeconds(1)); // the sender's clock far ahead of the receiver's
        Assert.False(receiver.TryOpen(NotificationChannels.Changes, sender.Seal(NotificationChannels.Changes, "t:03"), out _));
    }

    [Fact]
    public void RememberedNoncesAreBoundedAndForgettingOneNeverLetsItBack()
    {
        var provider = new EphemeralDataProtectionProvider();
        var (sender, senderClock) = NewSeal(provider);
        var (receiver, receiverClock) = NewSeal(provider, maxRemembered: 3);
        var payloads = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            payloads.Add(sender.Seal(NotificationChannels.Changes, $"t:{i:x2}"));
            senderClock.Advance(TimeSpan.FromMilliseconds(10));
        }

        foreach (var payload in payloads.Skip(1))
        {
            Assert.True(receiver.TryOpen(NotificationChannels.Changes, payload, out _));
        }

        Assert.Equal(3, receiver.Remembered);
        Assert.All(payloads, p => Assert.False(receiver.TryOpen(NotificationChannels.Changes, p, out _))); // the forgotten one too, and one never seen but older
        Assert.Equal(3, receiver.Remembered);

        // Past the window every nonce is forgotten; the next notice finds the memory pruned.
        receiverClock.Advance(NoticeSeal.Window + TimeSpan.FromSeconds(1));
        senderClock.Advance(NoticeSeal.Window + TimeSpan.FromSeconds(1));
        Assert.True(receiver.TryOpen(NotificationChannels.Changes, sender.Seal(NotificationChannels.Changes, "t:ff"), out _));
        Assert.Equal(1, receiver.Remembered);
    }

    [Fact]
    public void FailureCountsOfManyClientsSealBelowPostgresLimit()
    {
        var (seal, _) = NewSeal();
        var counts = Enumerable.Range(0, 5000)
            .Select(i => (new FailureThrottle.ClientKey(ulong.MaxValue - (ulong)i, ulong.MaxValue - (ulong)i), int.MaxValue - i))
            .ToList();
        var bodies = FailureSharing.Payloads("0123456789abcdef0123456789abcdef", counts);
        Assert.True(bodies.Count > 1);
        var total = 0;
        foreach (var body in bodies)
        {
            var payload = seal.Seal(NotificationChannels.AuthFailures, body);
            Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(payload), 1, NotificationChannels.MaxPayloadBytes);
            Assert.True(seal.TryOpen(NotificationChannels.AuthFailures, payload, out var opened));
            Assert.Equal(body, opened);
            total += opened.Split(' ').Length - 1;
        }

        Assert.Equal(counts.Count, total);
        Assert.Throws<ArgumentException>(() => seal.Seal(NotificationChannels.AuthFailures, new string('x', NoticeSeal.MaxBodyBytes + 1)));
    }
}

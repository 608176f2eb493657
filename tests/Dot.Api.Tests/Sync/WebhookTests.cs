using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Sync;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>
/// Verified webhooks (API.md §4, <c>POST /api/sync/{connection_type}/{connection_id}</c>): a connection holding
/// <c>webhook_secret</c> takes only triggers signed the way dbt Cloud signs, handles a dbt Cloud event by its type and
/// run status, and each <c>eventId</c> once. The bodies are dbt Cloud's documented examples (Fixtures/dbt-cloud, from
/// https://docs.getdbt.com/docs/deploy/webhooks#examples-of-json-payloads), signed here with the documented algorithm:
/// <c>hmac.new(secret.encode('utf-8'), request_body, hashlib.sha256).hexdigest()</c> in the <c>Authorization</c> header.
/// </summary>
public sealed class WebhookTests
{
    private const string WorkerEnabled = "Dot:Sync:WorkerEnabled";
    private const string WebhookSecret = "dbt-hmac-5f1c9a7e3b2d4068a1c3e5f7";
    private const string Password = "Wh4t-a-s3cret-9d2e41";
    private const string Email = "sync_user@contoso.com";
    private const string Route = "/api/sync/postgres/warehouse";

    /// <summary>When the fixtures say they were sent: two seconds before every factory's fake clock starts, in dbt Cloud's nanosecond format.</summary>
    private const string SentAt = "2026-01-15T11:59:58.789265936Z";

    /// <summary>A documented example, sent now: its 2023 <c>timestamp</c> replaced by <see cref="SentAt"/>.</summary>
    private static byte[] Fixture(string name)
        => SentOn(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "dbt-cloud", name)), SentAt);

    /// <summary>The same delivery with another body <c>timestamp</c>.</summary>
    private static byte[] SentOn(byte[] body, string timestamp)
        => Encoding.UTF8.GetBytes(System.Text.RegularExpressions.Regex.Replace(Encoding.UTF8.GetString(body),
            "\"timestamp\": \"[^\"]*\"", "\"timestamp\": " + JsonSerializer.Serialize(timestamp)));

    private static byte[] Completed => Fixture("job-run-completed.json");

    /// <summary>dbt Cloud's signature: lowercase hex HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes.</summary>
    private static string Sign(byte[] body, string secret = WebhookSecret)
        => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>The same JSON with one text replaced: another event of the same shape.</summary>
    private static byte[] With(byte[] body, string from, string to)
    {
        var text = Encoding.UTF8.GetString(body);
        Assert.Contains(from, text, StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text.Replace(from, to, StringComparison.Ordinal));
    }

    private sealed record Caller(User Admin, string Token, HttpClient Client, DotApiFactory Factory)
    {
        /// <summary>How dbt Cloud calls: the token in the URL, the signature in Authorization, the body as sent.</summary>
        public Task<HttpResponseMessage> DeliverAsync(byte[] body, string? signature, string route = Route)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"{route}?user_id={Uri.EscapeDataString(Admin.Email)}&api_token={Token}")
            {
                Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            if (signature is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", signature);
            }

            return Factory.CreateClient().SendAsync(request);
        }
    }

    /// <summary>An admin, and <c>postgres/warehouse</c> with a password and (unless told otherwise) a webhook_secret.</summary>
    private static async Task<Caller> SetUpAsync(DotApiFactory factory, bool withWebhookSecret = true)
    {
        var (admin, token, client) = await factory.CreateCallerAsync(Email, Role.Admin);
        object secrets = withWebhookSecret ? new { password = Password, webhook_secret = WebhookSecret } : new { password = Password };
        await client.CreateConnectionAsync("postgres", "warehouse", new { host = "db.example.com" }, secrets);
        return new Caller(admin, token, client, factory);
    }

    private static DotApiFactory NewFactory() => new DotApiFactory().WithSetting(WorkerEnabled, "false");

    private static async Task<int> RunCountAsync(DotApiFactory factory)
    {
        await using var db = factory.OpenStore();
        return await db.SyncRuns.CountAsync();
    }

    private static async Task<JsonElement[]> AuditAsync(HttpClient admin, string type)
    {
        var response = await admin.GetAsync($"/api/audit_events?type={type}&limit=200");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("items").EnumerateArray().ToArray();
    }

    private static async Task<JsonElement> AssertQueuedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var body = await response.JsonAsync();
        Assert.Equal("postgres", body.GetProperty("connection_type").GetString());
        Assert.Equal("warehouse", body.GetProperty("connection_id").GetString());
        Assert.Equal("queued", body.GetProperty("status").GetString());
        Assert.Equal($"/api/sync/runs/{body.GetProperty("sync_id").GetGuid()}", response.Headers.Location?.OriginalString);
        return body;
    }

    private static async Task AssertIgnoredAsync(HttpResponseMessage response, string reason)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var body = await response.JsonAsync();
        Assert.Equal("ignored", body.GetProperty("status").GetString());
        Assert.Equal(reason, body.GetProperty("reason").GetString());
        Assert.False(body.TryGetProperty("sync_id", out _));
        Assert.Null(response.Headers.Location);
    }

    /// <summary>The refusal of a signature: 401 with its own reason and challenge, nothing like a refused token.</summary>
    private static async Task AssertBadSignatureAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.JsonAsync();
        Assert.Equal("invalid_webhook_signature", body.GetProperty("reason").GetString());
        Assert.Contains("token was accepted", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("HMAC-SHA256", challenge.Scheme);
        Assert.DoesNotContain("ApiKey", challenge.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignedDbtCloudRunCompletedQueuesASyncThroughTheUrlToken()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);

        var body = await AssertQueuedAsync(await caller.DeliverAsync(Completed, Sign(Completed)));

        Assert.Equal(1, await RunCountAsync(factory));
        await using var db = factory.OpenStore();
        var run = await db.SyncRuns.SingleAsync();
        Assert.Equal(body.GetProperty("sync_id").GetGuid(), run.Id);
        Assert.Equal(caller.Admin.Id, run.RequestedBy);
        var delivery = await db.WebhookDeliveries.SingleAsync();
        Assert.Equal(("postgres", "warehouse", "wev_2L6ZDoilyiWzKkSA59Gmc2d7FDD", "queued", run.Id),
            (delivery.ConnectionType, delivery.ConnectionId, delivery.EventId, delivery.Outcome, delivery.SyncId!.Value));
        Assert.Equal(factory.Time.GetUtcNow().UtcDateTime, delivery.ReceivedAt);
        var audited = Assert.Single(await AuditAsync(caller.Client, "sync.requested"));
        Assert.Equal($"queued {run.Id} for webhook event wev_2L6ZDoilyiWzKkSA59Gmc2d7FDD", audited.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task SignedTriggerWithTheHeaderTokenQueuesASync()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var content = new ByteArrayContent(Completed);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, Route) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", Sign(Completed));

        await AssertQueuedAsync(await caller.Client.SendAsync(request));
    }

    [Fact]
    public async Task UppercaseHexSignatureIsAccepted()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);

        await AssertQueuedAsync(await caller.DeliverAsync(Completed, Sign(Completed).ToUpperInvariant()));
    }

    [Fact]
    public async Task BodyWithOneByteChangedIsRefusedAndQueuesNothing()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var signature = Sign(Completed);
        var tampered = (byte[])Completed.Clone();
        var at = Array.IndexOf(tampered, (byte)'5'); // a digit of a value: still valid JSON, another event
        tampered[at] = (byte)'6';

        await AssertBadSignatureAsync(await caller.DeliverAsync(tampered, signature));

        Assert.Equal(0, await RunCountAsync(factory));
        await using var db = factory.OpenStore();
        Assert.Equal(0, await db.WebhookDeliveries.CountAsync());
    }

    public static TheoryData<string, string?> BadSignatures => new()
    {
        { "missing", null },
        { "empty", "" },
        { "another secret", Sign(Completed, "another-secret") },
        { "prefixed", "sha256=" + Sign(Completed) },
        { "bearer", "Bearer " + Sign(Completed) },
        { "truncated", Sign(Completed)[..63] },
        { "one digit longer", Sign(Completed) + "0" },
        { "not hex", "zz" + Sign(Completed)[2..] },
        { "base64", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookSecret), Completed)) },
    };

    [Theory]
    [MemberData(nameof(BadSignatures))]
    public async Task TriggerWithoutAGoodSignatureIsRefused(string kind, string? signature)
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);

        var response = await caller.DeliverAsync(Completed, signature);

        await AssertBadSignatureAsync(response);
        Assert.True(await RunCountAsync(factory) == 0, kind);
    }

    [Fact]
    public async Task UnsignedTriggerWithoutABodyIsRefusedToo()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);

        await AssertBadSignatureAsync(await caller.Client.PostAsync(Route, null));
        Assert.Equal(0, await RunCountAsync(factory));
    }

    [Fact]
    public async Task SignedBodyWithoutAnEventTypeTriggersAsAlways()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var text = "not json at all {"u8.ToArray();
        var noType = """{"eventId":"wev_x","data":{"runStatusCode":20}}"""u8.ToArray();

        var first = await AssertQueuedAsync(await caller.DeliverAsync([], Sign([])));
        var second = await AssertQueuedAsync(await caller.DeliverAsync(text, Sign(text)));
        var third = await AssertQueuedAsync(await caller.DeliverAsync(noType, Sign(noType)));

        Assert.Equal(first.GetProperty("sync_id").GetGuid(), second.GetProperty("sync_id").GetGuid()); // joined, as any trigger
        Assert.Equal(first.GetProperty("sync_id").GetGuid(), third.GetProperty("sync_id").GetGuid());
        Assert.Equal(1, await RunCountAsync(factory));
        await using var db = factory.OpenStore();
        Assert.Equal(0, await db.WebhookDeliveries.CountAsync());
    }

    [Fact]
    public async Task CompletedRunThatFailedIsIgnored()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var failed = With(With(Completed, "\"runStatusCode\": 10", "\"runStatusCode\": 20"), "\"Success\"", "\"Error\"");

        await AssertIgnoredAsync(await caller.DeliverAsync(failed, Sign(failed)), "run_not_succeeded");

        Assert.Equal(0, await RunCountAsync(factory));
    }

    [Fact]
    public async Task CompletedEventWithoutARunStatusCodeIsIgnored()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var noCode = With(Completed, "\"runStatusCode\": 10,", "");
        var textCode = With(Completed, "\"runStatusCode\": 10", "\"runStatusCode\": \"10\"");

        await AssertIgnoredAsync(await caller.DeliverAsync(noCode, Sign(noCode)), "run_not_succeeded");
        await AssertIgnoredAsync(await caller.DeliverAsync(With(textCode, "FDD", "FDE"), Sign(With(textCode, "FDD", "FDE"))),
            "run_not_succeeded");

        Assert.Equal(0, await RunCountAsync(factory));
    }

    [Fact]
    public async Task OtherEventTypesAreIgnored()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var errored = Fixture("job-run-errored.json");
        var started = With(With(Completed, "job.run.completed", "job.run.started"), "FDD", "FDF");

        await AssertIgnoredAsync(await caller.DeliverAsync(errored, Sign(errored)), "event_type_not_handled");
        await AssertIgnoredAsync(await caller.DeliverAsync(started, Sign(started)), "event_type_not_handled");

        Assert.Equal(0, await RunCountAsync(factory));
    }

    [Fact]
    public async Task RepeatedEventIdIsAnsweredAsTheFirstDeliveryWithoutASecondRun()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var firstResponse = await caller.DeliverAsync(Completed, Sign(Completed));
        var first = await firstResponse.Content.ReadAsStringAsync();
        var syncId = (await AssertQueuedAsync(firstResponse)).GetProperty("sync_id").GetGuid();

        // The run finishes and time passes: a new trigger would now queue a new run, a redelivery must not.
        await using (var db = factory.OpenStore())
        {
            await db.SyncRuns.Where(r => r.Id == syncId).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, SyncStatus.Succeeded)
                .SetProperty(r => r.FinishedAt, factory.Time.GetUtcNow().UtcDateTime));
        }

        factory.Time.Advance(TimeSpan.FromHours(1));
        var again = await caller.DeliverAsync(Completed, Sign(Completed));

        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(first, await again.Content.ReadAsStringAsync());
        Assert.Equal($"/api/sync/runs/{syncId}", again.Headers.Location?.OriginalString);
        Assert.Equal(1, await RunCountAsync(factory));
        Assert.Single(await AuditAsync(caller.Client, "sync.requested"));

        // An ignored event is ignored again, the same way; a new event id syncs again.
        var failed = With(With(Completed, "\"runStatusCode\": 10", "\"runStatusCode\": 20"), "FDD", "FD1");
        var ignored = await (await caller.DeliverAsync(failed, Sign(failed))).Content.ReadAsStringAsync();
        Assert.Equal(ignored, await (await caller.DeliverAsync(failed, Sign(failed))).Content.ReadAsStringAsync());
        var next = With(Completed, "FDD", "FD2");
        Assert.NotEqual(syncId, (await AssertQueuedAsync(await caller.DeliverAsync(next, Sign(next)))).GetProperty("sync_id").GetGuid());
        Assert.Equal(2, await RunCountAsync(factory));
    }

    [Fact]
    public async Task RedeliveryWithABadSignatureIsRefusedNotReplayed()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        await AssertQueuedAsync(await caller.DeliverAsync(Completed, Sign(Completed)));

        await AssertBadSignatureAsync(await caller.DeliverAsync(Completed, Sign(Completed, "another-secret")));
    }

    [Fact]
    public async Task IdenticalDeliveriesAtOnceMakeOneRunAndOneAnswer()
    {
        await using var factory = NewFactory().WithTraceLogging();
        var caller = await SetUpAsync(factory);
        var signature = Sign(Completed);

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => caller.DeliverAsync(Completed, signature)));

        var bodies = new HashSet<string>(StringComparer.Ordinal);
        foreach (var response in responses)
        {
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            bodies.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.Single(bodies);
        Assert.Equal(1, await RunCountAsync(factory));
        Assert.Single(await AuditAsync(caller.Client, "sync.requested")); // one delivery decided; the others were answered from it
        Assert.Equal(11, factory.Logs.Entries.Count(e => e.Contains("was delivered before; answered as then", StringComparison.Ordinal)));
        Assert.DoesNotContain(factory.Logs.Entries, e => e.StartsWith("Error", StringComparison.Ordinal) || e.StartsWith("Critical", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IdenticalDeliveriesAtOnceAfterTheRunFinishedMakeNoNewRun()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var syncId = (await AssertQueuedAsync(await caller.DeliverAsync(Completed, Sign(Completed)))).GetProperty("sync_id").GetGuid();
        await using (var db = factory.OpenStore())
        {
            await db.SyncRuns.ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, SyncStatus.Failed));
        }

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => caller.DeliverAsync(Completed, Sign(Completed))));

        foreach (var response in responses)
        {
            Assert.Equal(syncId, (await AssertQueuedAsync(response)).GetProperty("sync_id").GetGuid());
        }

        Assert.Equal(1, await RunCountAsync(factory));
    }

    [Fact]
    public async Task ConnectionWithoutAWebhookSecretIsUnaffected()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory, withWebhookSecret: false);
        var failed = With(Completed, "\"runStatusCode\": 10", "\"runStatusCode\": 20");

        // Unsigned, wrongly signed, a failed run's event, the same event twice: every one a trigger, as before.
        var first = await AssertQueuedAsync(await caller.DeliverAsync(Completed, null));
        var syncId = first.GetProperty("sync_id").GetGuid();
        Assert.Equal(syncId, (await AssertQueuedAsync(await caller.DeliverAsync(Completed, "ab12cd34"))).GetProperty("sync_id").GetGuid());
        Assert.Equal(syncId, (await AssertQueuedAsync(await caller.DeliverAsync(failed, Sign(failed)))).GetProperty("sync_id").GetGuid());
        Assert.Equal(syncId, (await AssertQueuedAsync(await caller.Client.PostAsync(Route, null))).GetProperty("sync_id").GetGuid());

        Assert.Equal(1, await RunCountAsync(factory));
        await using var db = factory.OpenStore();
        Assert.Equal(0, await db.WebhookDeliveries.CountAsync());
        Assert.Empty(await AuditAsync(caller.Client, "sync.webhook_refused"));
    }

    [Fact]
    public async Task RefusedSignatureIsAuditedWithTheTokensOwner()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var tampered = With(Completed, "12345", "12346");

        await AssertBadSignatureAsync(await caller.DeliverAsync(tampered, Sign(Completed)));
        await AssertBadSignatureAsync(await caller.DeliverAsync(Completed, null));

        var events = await AuditAsync(caller.Client, "sync.webhook_refused");
        Assert.Equal(2, events.Length);
        Assert.All(events, e =>
        {
            Assert.Equal("postgres/warehouse", e.GetProperty("target").GetString());
            Assert.Equal(caller.Admin.Id, e.GetProperty("actor_id").GetGuid());
            Assert.StartsWith("invalid_webhook_signature: ", e.GetProperty("detail").GetString(), StringComparison.Ordinal);
        });
        Assert.Contains(events, e => e.GetProperty("detail").GetString() == "invalid_webhook_signature: no Authorization header");
        Assert.Contains(events, e => e.GetProperty("detail").GetString() == "invalid_webhook_signature: Authorization does not match the body");
        Assert.Empty(await AuditAsync(caller.Client, "sync.requested"));
        Assert.Empty(await AuditAsync(caller.Client, "auth.failed")); // not a token failure
    }

    [Fact]
    public async Task BadTokenIsATokenRefusalWhateverTheSignature()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var request = new HttpRequestMessage(HttpMethod.Post, $"{Route}?user_id={Email}&api_token=dot-{new string('0', 64)}")
        {
            Content = new ByteArrayContent(Completed),
        };
        request.Headers.TryAddWithoutValidation("Authorization", Sign(Completed));

        var response = await factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEqual("invalid_webhook_signature", (await response.JsonAsync()).GetProperty("reason").GetString());
        Assert.Equal("ApiKey", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal(0, await RunCountAsync(factory));
    }

    [Fact]
    public async Task BodyOverOneMebibyteIsTooLargeOnASignedConnection()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var big = new byte[(1024 * 1024) + 1];
        var announced = await caller.DeliverAsync(big, Sign(big));
        var unannounced = new HttpRequestMessage(HttpMethod.Post, Route) { Content = new UnknownLengthContent(big.Length) };
        unannounced.Headers.TryAddWithoutValidation("Authorization", Sign(big));

        var response = await caller.Client.SendAsync(unannounced); // no Content-Length: only the endpoint's own count stops it

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, announced.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var fits = new byte[1024 * 1024];
        await AssertQueuedAsync(await caller.DeliverAsync(fits, Sign(fits)));
    }

    [Fact]
    public async Task UnknownConnectionIsNotFoundAsBefore()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);

        var response = await caller.DeliverAsync(Completed, Sign(Completed), "/api/sync/postgres/nowhere");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task SecretIsNeverLoggedNorAnswered()
    {
        await using var factory = NewFactory().WithTraceLogging();
        var caller = await SetUpAsync(factory);
        var failed = With(Completed, "\"runStatusCode\": 10", "\"runStatusCode\": 20");
        var answers = new List<string>();

        foreach (var (body, signature) in new[]
        {
            (Completed, Sign(Completed)), (Completed, Sign(Completed)), (failed, Sign(failed)),
            (Completed, Sign(failed)), (Completed, null), (Completed, WebhookSecret),
        })
        {
            answers.Add(await (await caller.DeliverAsync(body, signature)).Content.ReadAsStringAsync());
        }

        answers.Add(await caller.Client.GetStringAsync("/api/connections/postgres/warehouse"));
        answers.Add(await caller.Client.GetStringAsync("/api/audit_events?limit=200"));
        foreach (var text in answers.Append(factory.Logs.AllText))
        {
            Assert.DoesNotContain(WebhookSecret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Sign(Completed), text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(caller.Token, text, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A captured delivery replayed after the retention, when its eventId is forgotten, is refused as stale: its
    /// timestamp left the replay window days before. The rows are still pruned.
    /// </summary>
    [Fact]
    public async Task ACapturedDeliveryReplayedAfterTheRetentionIsRefusedStale()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        await AssertQueuedAsync(await caller.DeliverAsync(Completed, Sign(Completed)));
        await using (var db = factory.OpenStore())
        {
            await db.SyncRuns.ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, SyncStatus.Succeeded));
        }

        var pruner = factory.Services.GetRequiredService<WebhookDeliveryPruner>();
        factory.Time.Advance(WebhookDeliveryPruner.KeptFor - TimeSpan.FromMinutes(1));
        Assert.Equal(0, await pruner.FlushAsync(CancellationToken.None));
        factory.Time.Advance(TimeSpan.FromMinutes(2));
        await pruner.FlushAsync(CancellationToken.None); // or the hourly pruning, woken by the fake clock, did it first
        await using (var db = factory.OpenStore())
        {
            Assert.Equal(0, await db.WebhookDeliveries.CountAsync());
        }

        await AssertStaleAsync(await caller.DeliverAsync(Completed, Sign(Completed)));
        Assert.Equal(1, await RunCountAsync(factory));

        // A new delivery of the same event, sent now, is handled as new.
        var resent = SentOn(Completed, factory.Time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        await AssertQueuedAsync(await caller.DeliverAsync(resent, Sign(resent)));
        Assert.Equal(2, await RunCountAsync(factory));
    }

    private static async Task AssertStaleAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.JsonAsync();
        Assert.Equal("stale_webhook", body.GetProperty("reason").GetString());
        Assert.Contains("timestamp", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("HMAC-SHA256", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    /// <summary>API.md §7: older than the replay window (24 hours by default) or more than 5 minutes ahead is stale.</summary>
    [Theory]
    [InlineData(-24 * 3600 - 1, false)]
    [InlineData(-24 * 3600 + 60, true)]
    [InlineData(-60, true)]
    [InlineData(4 * 60, true)]
    [InlineData(5 * 60 + 1, false)]
    [InlineData(-30 * 24 * 3600, false)]
    public async Task ADeliveryIsHandledOnlyWithinTheReplayWindow(int secondsFromNow, bool fresh)
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var body = SentOn(Completed, factory.Time.GetUtcNow().AddSeconds(secondsFromNow).ToString("O", System.Globalization.CultureInfo.InvariantCulture));

        var response = await caller.DeliverAsync(body, Sign(body));

        if (fresh)
        {
            await AssertQueuedAsync(response);
            Assert.Equal(1, await RunCountAsync(factory));
        }
        else
        {
            await AssertStaleAsync(response);
            Assert.Equal(0, await RunCountAsync(factory));
            await using var db = factory.OpenStore();
            Assert.Equal(0, await db.WebhookDeliveries.CountAsync()); // its eventId is not claimed: a fresh redelivery is handled
            var audited = Assert.Single(await AuditAsync(caller.Client, "sync.webhook_refused"));
            Assert.StartsWith("stale_webhook: timestamp ", audited.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary>A signed body without eventId is not deduplicated: the timestamp alone keeps it from being replayed forever.</summary>
    [Fact]
    public async Task ASignedDeliveryWithoutAnEventIdIsRefusedOnceStale()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var noEventId = With(Completed, "\"eventId\": \"wev_2L6ZDoilyiWzKkSA59Gmc2d7FDD\",", "");
        await AssertQueuedAsync(await caller.DeliverAsync(noEventId, Sign(noEventId)));

        factory.Time.Advance(TimeSpan.FromHours(25));

        await AssertStaleAsync(await caller.DeliverAsync(noEventId, Sign(noEventId)));
    }

    [Theory]
    [InlineData(null)] // no timestamp at all
    [InlineData("\"\"")]
    [InlineData("\"yesterday\"")]
    [InlineData("1768478400")] // a number, not dbt's text
    [InlineData("\"1768478400\"")]
    [InlineData("\"2026-01-15T12:00:00\"")] // no offset: no instant
    [InlineData("\"2026-01-15 12:00:00Z\"")]
    [InlineData("\"2026-02-30T12:00:00Z\"")]
    [InlineData("\"2026-01-15T12:00:00.1234567890Z\"")]
    [InlineData("null")]
    public async Task ASignedDbtDeliveryWithoutAReadableTimestampIsRefused(string? timestamp)
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        var body = timestamp is null
            ? With(Completed, "\"timestamp\": \"" + SentAt + "\",", "")
            : With(Completed, "\"timestamp\": \"" + SentAt + "\"", "\"timestamp\": " + timestamp);

        await AssertStaleAsync(await caller.DeliverAsync(body, Sign(body)));

        Assert.Equal(0, await RunCountAsync(factory));
    }

    [Theory]
    [InlineData("1", 2, false)]
    [InlineData("1", 0.5, true)]
    [InlineData("168", 167, true)]
    [InlineData("168", 169, false)]
    public async Task TheReplayWindowIsASetting(string hours, double ageHours, bool fresh)
    {
        await using var factory = NewFactory().WithSetting("Dot:Webhooks:ReplayWindowHours", hours);
        var caller = await SetUpAsync(factory);
        var body = SentOn(Completed, factory.Time.GetUtcNow().AddHours(-ageHours).ToString("O", System.Globalization.CultureInfo.InvariantCulture));

        var response = await caller.DeliverAsync(body, Sign(body));

        if (fresh)
        {
            await AssertQueuedAsync(response);
        }
        else
        {
            await AssertStaleAsync(response);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("169")]
    [InlineData("720")]
    public async Task AReplayWindowOutsideOneTo168HoursStopsTheStart(string hours)
    {
        await using var factory = NewFactory().WithSetting("Dot:Webhooks:ReplayWindowHours", hours);

        var ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Dot:Webhooks:ReplayWindowHours must be between 1 and 168", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DbtCloudsTimestampFormatIsRead()
    {
        Assert.Equal(new DateTimeOffset(2023, 1, 31, 19, 29, 35, TimeSpan.Zero).AddTicks(7892659),
            WebhookEvent.ReadTimestamp("2023-01-31T19:29:35.789265936Z"));
        Assert.Equal(new DateTimeOffset(2026, 1, 15, 13, 0, 0, TimeSpan.FromHours(1)), WebhookEvent.ReadTimestamp("2026-01-15T13:00:00+01:00"));
        Assert.Null(WebhookEvent.ReadTimestamp("2026-01-15T13:00:00"));
    }

    [Fact]
    public void RetentionIsAtLeastADay()
        => Assert.True(WebhookDeliveries.Retention >= TimeSpan.FromDays(1));

    [Fact]
    public async Task DeletingTheConnectionForgetsItsDeliveries()
    {
        await using var factory = NewFactory();
        var caller = await SetUpAsync(factory);
        await AssertQueuedAsync(await caller.DeliverAsync(Completed, Sign(Completed)));

        Assert.Equal(HttpStatusCode.NoContent, (await caller.Client.DeleteAsync("/api/connections/postgres/warehouse")).StatusCode);

        await using var db = factory.OpenStore();
        Assert.Equal(0, await db.WebhookDeliveries.CountAsync());
    }

    [Fact]
    public async Task WebhookSecretIsASecretNotASetting()
    {
        await using var factory = NewFactory();
        var (_, _, client) = await factory.CreateCallerAsync(Email, Role.Admin);

        var response = await client.PostAsJsonAsync("/api/connections",
            new { type = "postgres", id = "warehouse", settings = new { webhook_secret = WebhookSecret } });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("settings.webhook_secret", out _));
        Assert.DoesNotContain(WebhookSecret, errors.ToString(), StringComparison.Ordinal);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Connectors;
using Dot.Api.Data;
using Dot.Api.Sync;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>Sync (API.md §3, §4): triggers by header and by URL token, joining, limits, the worker and restarts.</summary>
public sealed class SyncTests
{
    private const string WorkerEnabled = "Dot:Sync:WorkerEnabled";
    private const string Secret = "Wh4t-a-s3cret-9d2e41";

    private const string DbtCloudWebhook = """
        {
          "eventId": "wev_2L6Z3l8uPedXKPq2bqZj9xPk1ab",
          "timestamp": "2026-01-15T11:58:02.123456Z",
          "eventType": "job.run.completed",
          "webhookName": "dot-sync",
          "webhooksID": "wsu_2L6Z3l8uPedXKPq2bqZj9xPk1ab",
          "accountId": "1",
          "data": {
            "jobId": "123",
            "jobName": "Nightly build",
            "runId": "456789",
            "environmentId": "2",
            "environmentName": "Production",
            "runStatus": "Success",
            "runStatusCode": 10,
            "runStatusMessage": "None",
            "runReason": "Kicked off from the UI",
            "runStartedAt": "2026-01-15T11:50:00Z",
            "runFinishedAt": "2026-01-15T11:58:00Z"
          }
        }
        """;

    /// <summary>
    /// An admin with a token, and a connection <c>warehouse</c> whose password is <see cref="Secret"/>: postgres unless
    /// the test needs a run that fails at once without reaching anything (snowflake: these settings have no account).
    /// </summary>
    /// <summary>What the run of <see cref="SetUpAsync"/>'s snowflake connection ends with: its connector's first check.</summary>
    private const string SnowflakeWithoutAccount = "the snowflake connection needs the setting account (the account identifier, such as myorg-myaccount).";

    private static async Task<(User Admin, string Token, HttpClient Client)> SetUpAsync(DotApiFactory factory,
        string email = "sync_user@contoso.com", string type = "postgres")
    {
        var (admin, token, client) = await factory.CreateCallerAsync(email, Role.Admin);
        var created = await client.PostAsJsonAsync("/api/connections", new
        {
            type,
            id = "warehouse",
            settings = new { host = "db.example.com" },
            secrets = new { password = Secret },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (admin, token, client);
    }

    private static async Task<JsonElement> AssertQueuedAsync(HttpResponseMessage response, string type = "postgres")
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(type, body.GetProperty("connection_type").GetString());
        Assert.Equal("warehouse", body.GetProperty("connection_id").GetString());
        Assert.True(body.GetProperty("status").GetString() is "queued" or "running");
        Assert.Equal("2026-01-15T12:00:00Z", body.GetProperty("requested_at").GetString());
        Assert.Equal($"/api/sync/runs/{body.GetProperty("sync_id").GetGuid()}", response.Headers.Location?.OriginalString);
        return body;
    }

    [Fact]
    public async Task HeaderTokenQueuesASync()
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (admin, _, client) = await SetUpAsync(factory);

        var body = await AssertQueuedAsync(await client.PostAsync("/api/sync/postgres/warehouse", null));

        Assert.Equal("queued", body.GetProperty("status").GetString());
        var run = await (await client.GetAsync($"/api/sync/runs/{body.GetProperty("sync_id").GetGuid()}")).JsonAsync();
        Assert.Equal("queued", run.GetProperty("status").GetString());
        foreach (var field in new[] { "started_at", "finished_at", "error", "schemas_count", "tables_count", "columns_count" })
        {
            Assert.Equal(JsonValueKind.Null, run.GetProperty(field).ValueKind);
        }

        await using var scope = factory.Services.CreateAsyncScope();
        var row = await scope.ServiceProvider.GetRequiredService<DotDbContext>().SyncRuns.SingleAsync();
        Assert.Equal(admin.Id, row.RequestedBy);
    }

    [Theory]
    [InlineData("email")]
    [InlineData("encoded-email")]
    [InlineData("upper-email")]
    [InlineData("id")]
    public async Task UrlTokenQueuesASync(string userIdForm)
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false").WithTraceLogging();
        var (admin, token, _) = await SetUpAsync(factory);
        var userId = userIdForm switch
        {
            "email" => "sync_user@contoso.com",
            "encoded-email" => "sync_user%40contoso.com",
            "upper-email" => "SYNC_USER@Contoso.COM",
            _ => admin.Id.ToString(),
        };

        var response = await factory.CreateClient().PostAsync($"/api/sync/postgres/warehouse?user_id={userId}&api_token={token}", null);

        await AssertQueuedAsync(response);
        Assert.DoesNotContain(token, factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UrlTokenOfAnotherUserIsRefused()
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (_, token, _) = await SetUpAsync(factory);

        var response = await factory.CreateClient().PostAsync($"/api/sync/postgres/warehouse?user_id=someone@contoso.com&api_token={token}", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("user_id_mismatch", (await response.JsonAsync()).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task UrlTokenIsNotAcceptedWhenReadingARun()
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (admin, token, client) = await SetUpAsync(factory);
        var syncId = (await AssertQueuedAsync(await client.PostAsync("/api/sync/postgres/warehouse", null))).GetProperty("sync_id").GetGuid();

        var response = await factory.CreateClient().GetAsync($"/api/sync/runs/{syncId}?user_id={admin.Email}&api_token={token}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("query_token_not_allowed", (await response.JsonAsync()).GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData(Role.Modeler)]
    [InlineData(Role.User)]
    public async Task OnlyAdminsTriggerAndReadSyncs(Role role)
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (_, _, admin) = await SetUpAsync(factory);
        var syncId = (await AssertQueuedAsync(await admin.PostAsync("/api/sync/postgres/warehouse", null))).GetProperty("sync_id").GetGuid();
        var (caller, token, client) = await factory.CreateCallerAsync("someone@example.com", role);

        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/api/sync/postgres/warehouse", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await factory.CreateClient().PostAsync($"/api/sync/postgres/warehouse?user_id={caller.Email}&api_token={token}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/sync/runs/{syncId}")).StatusCode);
    }

    [Fact]
    public async Task DbtCloudWebhookBodyIsAcceptedAndIgnored()
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (admin, token, _) = await SetUpAsync(factory);
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("Authorization", "ab12cd34ef56"); // dbt Cloud signs; the server does not need it

        var json = await client.PostAsync($"/api/sync/postgres/warehouse?user_id={Uri.EscapeDataString(admin.Email)}&api_token={token}",
            new StringContent(DbtCloudWebhook, Encoding.UTF8, "application/json"));
        var text = await client.PostAsync($"/api/sync/postgres/warehouse?user_id={admin.Email}&api_token={token}",
            new StringContent("not json at all {", Encoding.UTF8, "text/plain"));
        var form = await client.PostAsync($"/api/sync/postgres/warehouse?user_id={admin.Email}&api_token={token}",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["a"] = "b" }));

        var first = await AssertQueuedAsync(json);
        Assert.Equal(first.GetProperty("sync_id").GetGuid(), (await AssertQueuedAsync(text)).GetProperty("sync_id").GetGuid());
        Assert.Equal(first.GetProperty("sync_id").GetGuid(), (await AssertQueuedAsync(form)).GetProperty("sync_id").GetGuid());
    }

    [Fact]
    public async Task BodyOfOneMebibyteIsAcceptedAndOneByteMoreIsTooLarge()
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (_, _, client) = await SetUpAsync(factory);

        var fits = await client.PostAsync("/api/sync/postgres/warehouse", new ByteArrayContent(new byte[1024 * 1024]));
        var tooLarge = await client.PostAsync("/api/sync/postgres/warehouse", new ByteArrayContent(new byte[(1024 * 1024) + 1]));
        var tooLargeUnannounced = await client.PostAsync("/api/sync/postgres/warehouse", new UnknownLengthContent((1024 * 1024) + 1));

        await AssertQueuedAsync(fits);
        foreach (var response in new[] { tooLarge, tooLargeUnannounced })
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(413, (await response.JsonAsync()).GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task FiftySimultaneousTriggersMakeOneRun()
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (admin, token, client) = await SetUpAsync(factory);
        var anonymous = factory.CreateClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => i % 2 == 0
            ? client.PostAsync("/api/sync/postgres/warehouse", null)
            : anonymous.PostAsync($"/api/sync/postgres/warehouse?user_id={admin.Email}&api_token={token}",
                new StringContent(DbtCloudWebhook, Encoding.UTF8, "application/json"))));

        var ids = new HashSet<Guid>();
        foreach (var response in responses)
        {
            ids.Add((await AssertQueuedAsync(response)).GetProperty("sync_id").GetGuid());
        }

        Assert.Single(ids);
        Assert.Equal(49, factory.Logs.Entries.Count(e => e.Contains("Trigger joined sync", StringComparison.Ordinal)));
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<DotDbContext>().SyncRuns.CountAsync());
    }

    /// <summary>Joining a queued run is an ordinary answer: no database error, no warning, at any level.</summary>
    [Fact]
    public async Task JoiningAQueuedRunLogsNoDatabaseError()
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false").WithTraceLogging();
        var (_, _, client) = await SetUpAsync(factory);

        var first = await client.TriggerSyncAsync("postgres", "warehouse");
        var before = factory.Logs.Entries.Count;
        var joined = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.TriggerSyncAsync("postgres", "warehouse")));

        Assert.All(joined, id => Assert.Equal(first, id));
        Assert.Equal(10, factory.Logs.Entries.Count(e => e.Contains("Trigger joined sync", StringComparison.Ordinal)));
        var alarming = factory.Logs.Entries.Skip(before).Where(e => e.StartsWith("Error", StringComparison.Ordinal)
            || e.StartsWith("Warning", StringComparison.Ordinal) || e.StartsWith("Critical", StringComparison.Ordinal)
            || e.Contains("An exception occurred", StringComparison.Ordinal) || e.Contains("UNIQUE constraint", StringComparison.Ordinal)).ToList();
        Assert.True(alarming.Count == 0, string.Join('\n', alarming));
    }

    [Fact]
    public async Task UnknownTypeIsUnprocessable()
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (_, _, client) = await SetUpAsync(factory);

        await ConnectionsTests.AssertInvalidAsync(await client.PostAsync("/api/sync/oracle/warehouse", null), "connection_type");
    }

    [Theory]
    [InlineData("/api/sync/postgres/nope")]
    [InlineData("/api/sync/snowflake/warehouse")]
    [InlineData("/api/sync/postgres/Not%20A%20Slug")]
    public async Task UnknownConnectionIsNotFound(string route)
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (_, _, client) = await SetUpAsync(factory);

        var response = await client.PostAsync(route, null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task UnknownRunIsNotFound()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/sync/runs/{Guid.CreateVersion7()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/sync/runs/not-a-guid")).StatusCode);
    }

    [Fact]
    public async Task RunWithoutAConnectorFailsSayingSo()
    {
        // Every type has a connector in the product: one is taken out here, as in a server built without it (the
        // connectors' classes are internal to their library: found by name, and found exactly once).
        const string type = "looker";
        await using var factory = new DotApiFactory().WithServices(s =>
            s.Remove(Assert.Single(s, d => d.ServiceType == typeof(ISyncConnector) && d.ImplementationType?.Name == "LookerConnector")));
        var (_, _, client) = await SetUpAsync(factory, type: type);

        var syncId = (await AssertQueuedAsync(await client.PostAsync($"/api/sync/{type}/warehouse", null), type)).GetProperty("sync_id").GetGuid();
        var run = await client.WaitForRunAsync(syncId, 10);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal($"no connector for {type} in this server", run.GetProperty("error").GetString());
        Assert.Equal("2026-01-15T12:00:00Z", run.GetProperty("started_at").GetString());
        Assert.Equal("2026-01-15T12:00:00Z", run.GetProperty("finished_at").GetString());

        Assert.DoesNotContain("Sync worker loop failed", factory.Logs.AllText, StringComparison.Ordinal);

        // Finished: the next trigger queues a new run.
        var next = await AssertQueuedAsync(await client.PostAsync($"/api/sync/{type}/warehouse", null), type);
        Assert.NotEqual(syncId, next.GetProperty("sync_id").GetGuid());
    }

    [Fact]
    public async Task ConnectorGetsSettingsAndSecretsAndItsCountsAreKept()
    {
        var connector = new FakeConnector(job =>
        {
            Assert.Equal("db.example.com", job.Settings["host"].GetString());
            Assert.Equal(Secret, job.Secrets["password"]);
            Assert.DoesNotContain(Secret, job.ToString(), StringComparison.Ordinal);
            return new SyncOutcome(3, 40, 512);
        });
        await using var factory = new DotApiFactory().WithServices(s => s.AddSingleton<ISyncConnector>(connector));
        var (_, _, client) = await SetUpAsync(factory);

        var syncId = (await AssertQueuedAsync(await client.PostAsync("/api/sync/postgres/warehouse", null))).GetProperty("sync_id").GetGuid();
        var run = await client.WaitForRunAsync(syncId, 10);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("error").ValueKind);
        Assert.Equal(3, run.GetProperty("schemas_count").GetInt32());
        Assert.Equal(40, run.GetProperty("tables_count").GetInt32());
        Assert.Equal(512, run.GetProperty("columns_count").GetInt32());
        Assert.Equal(1, connector.Calls);
    }

    [Fact]
    public async Task ConnectorFailureNamesTheCauseButNoSecret()
    {
        var connector = new FakeConnector(job => throw new InvalidOperationException(
            $"login failed for postgres://admin:{job.Secrets["password"]}@db.example.com/x (password {Uri.EscapeDataString(job.Secrets["password"])})",
            new TimeoutException("no answer within 30 s")));
        await using var factory = new DotApiFactory().WithTraceLogging().WithServices(s => s.AddSingleton<ISyncConnector>(connector));
        var (_, _, client) = await SetUpAsync(factory);

        var syncId = (await AssertQueuedAsync(await client.PostAsync("/api/sync/postgres/warehouse", null))).GetProperty("sync_id").GetGuid();
        var run = await client.WaitForRunAsync(syncId, 10);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        var error = run.GetProperty("error").GetString()!;
        Assert.StartsWith("postgres connector failed: InvalidOperationException: login failed for postgres://admin:[REDACTED]@db.example.com", error,
            StringComparison.Ordinal);
        Assert.Contains("TimeoutException: no answer within 30 s", error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueuedRunSurvivesARestart()
    {
        await using var second = new DotApiFactory();
        Guid syncId;
        string token;
        await using (var first = new DotApiFactory(second.IsPostgres)
            .WithSetting("ConnectionStrings:Dot", second.ConnectionString)
            .WithSetting(WorkerEnabled, "false"))
        {
            (_, token, var client) = await SetUpAsync(first, type: "snowflake");
            syncId = (await AssertQueuedAsync(await client.PostAsync("/api/sync/snowflake/warehouse", null), "snowflake")).GetProperty("sync_id").GetGuid();
        }

        var run = await second.ClientWith(token).WaitForRunAsync(syncId, 10);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal(SnowflakeWithoutAccount, run.GetProperty("error").GetString());
    }

    [Fact]
    public async Task RunLeftRunningByACrashIsRequeuedAtStart()
    {
        // The same instance started again: its runs still marked running are its own, from before the crash.
        await using var second = new DotApiFactory().WithSetting("Dot:Sync:InstanceName", "host-a");
        Guid syncId;
        string token;
        await using (var first = new DotApiFactory(second.IsPostgres)
            .WithSetting("ConnectionStrings:Dot", second.ConnectionString)
            .WithSetting(WorkerEnabled, "false"))
        {
            (_, token, var client) = await SetUpAsync(first, type: "snowflake");
            syncId = (await AssertQueuedAsync(await client.PostAsync("/api/sync/snowflake/warehouse", null), "snowflake")).GetProperty("sync_id").GetGuid();

            // As this host would leave it if it died mid-run: running, claimed under its own name, heartbeat fresh.
            await using var scope = first.Services.CreateAsyncScope();
            var now = first.Time.GetUtcNow().UtcDateTime;
            await scope.ServiceProvider.GetRequiredService<DotDbContext>().SyncRuns.ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, SyncStatus.Running)
                .SetProperty(r => r.StartedAt, now)
                .SetProperty(r => r.ClaimedBy, "host-a")
                .SetProperty(r => r.HeartbeatAt, now));
        }

        var run = await second.ClientWith(token).WaitForRunAsync(syncId, 10);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal(SnowflakeWithoutAccount, run.GetProperty("error").GetString());
    }

    [Fact]
    public async Task RunOfAnInstanceThatStoppedHeartbeatingIsRequeuedWhenItsLeaseLapses()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await SetUpAsync(factory, type: "snowflake");
        var syncId = Guid.CreateVersion7();
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
            var now = factory.Time.GetUtcNow().UtcDateTime;
            db.SyncRuns.Add(new SyncRun
            {
                Id = syncId,
                ConnectionType = "snowflake",
                ConnectionId = "warehouse",
                Status = SyncStatus.Running,
                RequestedAt = now,
                StartedAt = now,
                ClaimedBy = "another-host",
                HeartbeatAt = now,
            });
            await db.SaveChangesAsync();
        }

        // Another instance holds it: a trigger joins it rather than starting a second run.
        Assert.Equal(syncId, (await AssertQueuedAsync(await client.PostAsync("/api/sync/snowflake/warehouse", null), "snowflake")).GetProperty("sync_id").GetGuid());
        Assert.Equal("running", (await (await client.GetAsync($"/api/sync/runs/{syncId}")).JsonAsync()).GetProperty("status").GetString());

        // That instance is gone: once its lease (120 s) has lapsed, this worker's poll takes the run over.
        var run = await client.WaitForRunAsync(syncId, 10, () => factory.Time.Advance(TimeSpan.FromSeconds(15)));

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal(SnowflakeWithoutAccount, run.GetProperty("error").GetString());
    }

    [Fact]
    public async Task DeletingAConnectionEndsItsActiveRunAndKeepsItReadable()
    {
        await using var factory = new DotApiFactory().WithSetting(WorkerEnabled, "false");
        var (_, _, client) = await SetUpAsync(factory);
        var syncId = (await AssertQueuedAsync(await client.PostAsync("/api/sync/postgres/warehouse", null))).GetProperty("sync_id").GetGuid();

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/connections/postgres/warehouse")).StatusCode);

        var run = await (await client.GetAsync($"/api/sync/runs/{syncId}")).JsonAsync();
        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal("the connection was deleted", run.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/sync/postgres/warehouse", null)).StatusCode);
    }

    [Fact]
    public void FailureTextHasNoSecretAndIsBounded()
    {
        var secrets = new ConnectionSecretValues(new Dictionary<string, string> { ["password"] = "p\"w/d 1" });
        var error = SyncWorker.DescribeFailure("mssql", new InvalidOperationException(
            "bad: p\"w/d 1, p%22w%2Fd%201, p\\u0022w/d 1, token dot-0123456789abcdef0123 " + new string('x', 5000)), secrets);

        Assert.DoesNotContain("p\"w/d 1", error, StringComparison.Ordinal);
        Assert.DoesNotContain("p%22w%2Fd%201", error, StringComparison.Ordinal);
        Assert.DoesNotContain("p\\u0022w/d 1", error, StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789abcdef", error, StringComparison.Ordinal);
        Assert.StartsWith("mssql connector failed: InvalidOperationException: bad: [REDACTED], [REDACTED], [REDACTED]", error, StringComparison.Ordinal);
        Assert.True(error.Length <= SyncRun.MaxErrorLength);
    }

    private sealed class FakeConnector(Func<SyncJob, SyncOutcome> run) : ISyncConnector
    {
        private int _calls;

        public int Calls => _calls;

        public string Type => "postgres";

        public Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            return Task.FromResult(run(job));
        }
    }
}

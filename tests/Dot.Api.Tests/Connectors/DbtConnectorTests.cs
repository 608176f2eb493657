using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Connections;
using Dot.Api.Connectors;
using Dot.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>
/// The dbt connector on real manifests (Fixtures/dbt: dbt 1.5.1 schema v9 and dbt 1.9.8 schema v12), from a file and
/// over http, compared with what the test reads from the same file on its own; broken manifests; the streaming reader.
/// </summary>
[Trait("Store", "any")]
public sealed class DbtConnectorTests : IDisposable
{
    private const string JaffleShop = "jaffle_shop-v9.manifest.json";
    private const string Analytics = "analytics-v12.manifest.json";

    private readonly string _directory = Directory.CreateTempSubdirectory("dot-dbt-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static void AssertSameRelations(Dictionary<string, ManifestFacts.Relation> expected, JsonElement catalog)
    {
        var actual = ManifestFacts.Relations(catalog);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, relation) in expected)
        {
            Assert.Equal((key, relation.Kind, relation.Description), (key, actual[key].Kind, actual[key].Description));
            Assert.Equal(relation.Columns, actual[key].Columns);
        }
    }

    [Theory]
    [InlineData(JaffleShop, "v9")]
    [InlineData(Analytics, "v12")]
    public async Task DbtManifestFileIsSyncedIntoTheCatalogue(string file, string version)
    {
        var path = ManifestFacts.FixturePath(file);
        var expected = ManifestFacts.Relations(path);
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "project", new { manifest_path = path });

        var run = await admin.SyncAsync("dbt", "project");
        var catalog = await admin.CatalogAsync("dbt", "project");

        AssertSameRelations(expected, catalog);
        Assert.Equal(expected.Keys.Select(k => k[..k.LastIndexOf('.')]).Distinct().Count(), run.GetProperty("schemas_count").GetInt32());
        Assert.Equal(expected.Count, run.GetProperty("tables_count").GetInt32());
        Assert.Equal(expected.Values.Sum(r => r.Columns.Count), run.GetProperty("columns_count").GetInt32());
        Assert.Contains(factory.Logs.Entries, e => e.Contains($"manifest {version}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnalyticsManifestKeepsDescriptionsTypesAndSameNamedRelationsOfBothDatabases()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "analytics", new { manifest_path = ManifestFacts.FixturePath(Analytics) });

        await admin.SyncAsync("dbt", "analytics");
        var tables = (await admin.CatalogAsync("dbt", "analytics")).Tables(withDatabase: true);

        // The source raw.rms.products and the model analytics.rms.products (alias) are two relations.
        Assert.Equal("source", tables["raw.rms.products"].Str("kind"));
        Assert.Equal("table", tables["analytics.rms.products"].Str("kind")); // incremental
        Assert.StartsWith("This table has basic information about a customer.", tables["analytics.mrt_common.dim_customer"].Str("description"),
            StringComparison.Ordinal);

        // Ephemeral models are CTEs inside other models, not relations in the warehouse.
        Assert.DoesNotContain("analytics.accounts_db.src_accounts_db_accounts", tables.Keys);
        Assert.DoesNotContain("analytics.reltio.src_reltio_individual_emails", tables.Keys);
        var described = tables.Values.SelectMany(t => t.GetProperty("columns").EnumerateArray()).Where(c => c.Str("description") is not null).ToList();
        Assert.NotEmpty(described);
        Assert.Contains(tables.Values.SelectMany(t => t.GetProperty("columns").EnumerateArray()), c => c.Str("data_type") is not null);
        Assert.All(tables.Values.SelectMany(t => t.GetProperty("columns").EnumerateArray()),
            c => Assert.Equal(JsonValueKind.Null, c.GetProperty("nullable").ValueKind));
    }

    [Fact]
    public async Task DbtManifestServedOverHttpWithATokenIsSyncedAndTheTokenStaysSecret()
    {
        const string token = "dbtc_Secret-Service-Token-4f1e2d";
        var path = ManifestFacts.FixturePath(Analytics);
        await using var server = await new ManifestServer(path, $"Bearer {token}").StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "cloud", new { manifest_url = server.ManifestUrl.ToString() }, new { manifest_token = token });
        await admin.CreateConnectionAsync("dbt", "no-token", new { manifest_url = server.ManifestUrl.ToString() });
        await admin.CreateConnectionAsync("dbt", "wrong-token", new { manifest_url = server.ManifestUrl.ToString() },
            new { authorization = "Token not-the-right-one-77" });

        await admin.SyncAsync("dbt", "cloud");
        var refused = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "no-token"));
        var wrong = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "wrong-token"));

        AssertSameRelations(ManifestFacts.Relations(path), await admin.CatalogAsync("dbt", "cloud"));
        Assert.Equal($"Bearer {token}", server.AuthorizationHeaders.First());
        Assert.Equal("failed", refused.Str("status"));
        Assert.Equal($"{server.ManifestUrl} answered 401: give the connection a manifest_token (or authorization) secret", refused.Str("error"));
        Assert.Equal($"{server.ManifestUrl} answered 401: check the manifest_token (or api_token, or authorization) secret", wrong.Str("error"));
        Assert.Contains("Token not-the-right-one-77", server.AuthorizationHeaders);
        Assert.DoesNotContain(token, factory.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-right-one-77", factory.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>The settings of docs/sync.md's example (account_id, job_id, secret api_token) name the job's latest manifest in dbt Cloud.</summary>
    [Fact]
    public async Task DbtCloudAccountAndJobSettingsFetchTheJobsLatestManifest()
    {
        const string token = "dbtc_Cloud-Api-Token-9a8b7c";
        var path = ManifestFacts.FixturePath(JaffleShop);
        await using var server = await new ManifestServer(path, $"Bearer {token}").StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "cloud-prod",
            new { account_id = 1, job_id = "123", cloud_url = server.BaseAddress.ToString() }, new { api_token = token });

        await admin.SyncAsync("dbt", "cloud-prod");

        AssertSameRelations(ManifestFacts.Relations(path), await admin.CatalogAsync("dbt", "cloud-prod"));
        Assert.DoesNotContain(token, factory.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>
    /// dbt retired the shared region URLs (https://cloud.getdbt.com, https://emea.dbt.com, https://au.dbt.com) for
    /// account-specific ones: account_id and job_id need cloud_url, and a retired host is refused at creation, naming
    /// the setting and what to use instead.
    /// </summary>
    [Theory]
    [InlineData("""{"account_id": 1234, "job_id": "567"}""", "settings.cloud_url", "need the setting cloud_url")]
    [InlineData("""{"account_id": 1234, "job_id": "567", "cloud_url": "https://cloud.getdbt.com"}""", "settings.cloud_url", "names cloud.getdbt.com")]
    [InlineData("""{"account_id": 1234, "job_id": "567", "cloud_url": "EMEA.dbt.com/"}""", "settings.cloud_url", "names emea.dbt.com")]
    [InlineData("""{"manifest_url": "https://au.dbt.com/api/v2/accounts/1/jobs/2/artifacts/manifest.json"}""", "settings.manifest_url", "names au.dbt.com")]
    public async Task RetiredDbtCloudUrlsAreRefusedAtCreationSayingWhatToUse(string settings, string field, string reason)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var response = await admin.PostAsJsonAsync("/api/connections",
            new { type = "dbt", id = "cloud-prod", settings = JsonDocument.Parse(settings).RootElement, secrets = new { api_token = "dbtc_x" } });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var message = (await response.JsonAsync()).GetProperty("errors").GetProperty(field)[0].GetString()!;
        Assert.Contains(reason, message, StringComparison.Ordinal);
        Assert.Contains("https://ACCOUNT_PREFIX.us1.dbt.com", message, StringComparison.Ordinal);
    }

    /// <summary>A connection stored before the rule (relying on the old default, or naming a retired host) fails its run saying what to use.</summary>
    [Theory]
    [InlineData(null, "the dbt settings account_id and job_id need the setting cloud_url: your account's access URL, https://ACCOUNT_PREFIX.us1.dbt.com")]
    [InlineData("https://cloud.getdbt.com/", "the dbt setting cloud_url names cloud.getdbt.com, a dbt Cloud region URL that dbt retired on 1 November 2026: use your account's access URL, https://ACCOUNT_PREFIX.us1.dbt.com")]
    public async Task StoredConnectionOnTheRetiredDefaultFailsItsRunSayingWhatToUse(string? cloudUrl, string error)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var settings = new Dictionary<string, object> { ["account_id"] = 1234, ["job_id"] = "567" };
        if (cloudUrl is not null)
        {
            settings["cloud_url"] = cloudUrl;
        }

        await StoreConnectionAsync(factory, "legacy-cloud", settings);

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "legacy-cloud"));

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith(error, run.Str("error"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableOrMissingManifestUrlFailsSayingSo()
    {
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        var closed = new Uri($"http://127.0.0.1:{server.BaseAddress.Port}/");
        await server.DisposeAsync();
        await using var other = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "gone", new { manifest_url = new Uri(closed, "manifest.json").ToString() });
        await admin.CreateConnectionAsync("dbt", "missing", new { manifest_url = new Uri(other.BaseAddress, "nothing/manifest.json").ToString() });

        var gone = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "gone"), seconds: 20);
        var missing = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "missing"));

        Assert.StartsWith($"could not reach {closed}manifest.json: ", gone.Str("error"), StringComparison.Ordinal);
        Assert.Equal($"{other.BaseAddress}nothing/manifest.json answered 404", missing.Str("error"));
    }

    /// <summary>
    /// A connection stored before URL credentials were refused (written here straight through the service, past the
    /// API's validation): its password and signature reach no log line, no answer and not the run's error.
    /// </summary>
    [Fact]
    public async Task StoredUrlWithAPasswordNeverReachesTheLogsTheAnswersOrTheRunError()
    {
        const string password = "Url-Password-3b9d1f";
        const string signature = "Url-Signature-8c2e4a";
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var url = $"http://dot-user:{password}@127.0.0.1:{server.BaseAddress.Port}{ManifestServer.ArtifactPath}?sig={signature}";
        await StoreConnectionAsync(factory, "legacy", new() { ["manifest_url"] = url });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "legacy"));
        var one = await (await admin.GetAsync("/api/connections/dbt/legacy")).Content.ReadAsStringAsync();
        var list = await (await admin.GetAsync("/api/connections")).Content.ReadAsStringAsync();

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith("the dbt setting manifest_url holds a user name, a password or a query string", run.Str("error"), StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", one, StringComparison.Ordinal);
        foreach (var text in new[] { run.GetRawText(), one, list, factory.Logs.AllText })
        {
            Assert.DoesNotContain(password, text, StringComparison.Ordinal);
            Assert.DoesNotContain(signature, text, StringComparison.Ordinal);
        }

        Assert.Empty(server.AuthorizationHeaders); // nothing was sent
    }

    /// <summary>A secret's value that also stands in the URL (a token in the path) is scrubbed from the connector's log lines and the run's error.</summary>
    [Fact]
    public async Task SecretValueInTheManifestUrlIsScrubbedFromTheLogsAndTheRunError()
    {
        const string token = "Path-Token-5e6f7a8b";
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "pathy", new { manifest_url = new Uri(server.BaseAddress, $"t/{token}/manifest.json").ToString() },
            new { manifest_token = token });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "pathy"));

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith($"{server.BaseAddress}t/[REDACTED]/manifest.json answered 404", run.Str("error"), StringComparison.Ordinal);
        Assert.Contains(factory.Logs.Entries, e => e.Contains("t/[REDACTED]/manifest.json", StringComparison.Ordinal));
        Assert.DoesNotContain(token, factory.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>A signed URL (its signature in the query) is a secret: given as the secret manifest_url, it is fetched and never shown.</summary>
    [Fact]
    public async Task SignedUrlGivenAsTheSecretManifestUrlIsFetched()
    {
        const string signature = "Sig-Secret-1a2b3c4d";
        var path = ManifestFacts.FixturePath(JaffleShop);
        await using var server = await new ManifestServer(path, null).StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "signed", null, new { manifest_url = $"{server.ManifestUrl}?X-Amz-Signature={signature}" });

        await admin.SyncAsync("dbt", "signed");

        AssertSameRelations(ManifestFacts.Relations(path), await admin.CatalogAsync("dbt", "signed"));
        Assert.DoesNotContain(signature, factory.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(signature, await (await admin.GetAsync("/api/connections/dbt/signed")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Stores a dbt connection through the service, as one created before today's validation would be.</summary>
    private static async Task StoreConnectionAsync(DotApiFactory factory, string id, Dictionary<string, object> settings)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var connections = scope.ServiceProvider.GetRequiredService<ConnectionService>();
        var draft = new ConnectionDraft("dbt", id, id, settings.ToDictionary(s => s.Key, s => JsonSerializer.SerializeToElement(s.Value)),
            new Dictionary<string, string>());
        Assert.NotNull(await connections.CreateAsync(draft, null, CancellationToken.None));
    }

    [Fact]
    public async Task ManifestPathIsRefusedAtCreationUnlessTheServerAllowsIt()
    {
        var path = ManifestFacts.FixturePath(JaffleShop);
        await using (var factory = new DotApiFactory())
        {
            var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

            var refused = await admin.PostAsJsonAsync("/api/connections", new { type = "dbt", id = "local", settings = new { manifest_path = path } });

            await ConnectionsTests.AssertInvalidAsync(refused, "settings.manifest_path");
            var message = (await refused.JsonAsync()).GetProperty("errors").GetProperty("settings.manifest_path")[0].GetString();
            Assert.Contains("Dot:Connectors:AllowManifestPath", message, StringComparison.Ordinal);
        }

        await using (var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true"))
        {
            var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
            await admin.CreateConnectionAsync("dbt", "local", new { manifest_path = path });

            await admin.SyncAsync("dbt", "local");
        }
    }

    /// <summary>A manifest_path connection stored while the setting was on (or before it existed) fails its runs once it is off.</summary>
    [Fact]
    public async Task StoredManifestPathConnectionFailsItsRunByDefault()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await StoreConnectionAsync(factory, "local", new() { ["manifest_path"] = ManifestFacts.FixturePath(JaffleShop) });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "local"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Contains("Dot:Connectors:AllowManifestPath", run.Str("error"), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await admin.CatalogAsync("dbt", "local")).GetProperty("sync_id").ValueKind);
    }

    [Fact]
    public async Task RedirectIsNotFollowed()
    {
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "moved", new { manifest_url = new Uri(server.BaseAddress, ManifestServer.RedirectPath).ToString() });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "moved"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"{new Uri(server.BaseAddress, ManifestServer.RedirectPath)} redirects (answered 302): this server does not follow redirects; "
            + "configure the final URL in the connection", run.Str("error"));
        Assert.Equal([ManifestServer.RedirectPath], server.Paths);
    }

    [Fact]
    public async Task ErrorAnswerIsReportedByItsStatusCodeWithoutItsReasonPhraseOrBody()
    {
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var url = new Uri(server.BaseAddress, ManifestServer.ErrorPath);
        await admin.CreateConnectionAsync("dbt", "broken", new { manifest_url = url.ToString() });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "broken"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"{url} answered 500", run.Str("error"));
        Assert.DoesNotContain(ManifestServer.ErrorMarker, run.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(ManifestServer.ErrorMarker, factory.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>A port that answers something other than HTTP (an SSH banner, a Redis error): the run's error does not show it.</summary>
    [Fact]
    public async Task WhatANonHttpServiceAnswersIsNotQuoted()
    {
        const string banner = "SSH-2.0-Banner-Marker-0a9b8c";
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serving = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(banner + "\r\n"));
            await stream.FlushAsync();
            await Task.Delay(500);
        });
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "probe", new { manifest_url = $"http://127.0.0.1:{port}/manifest.json" });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "probe"));
        await serving;

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith($"could not reach http://127.0.0.1:{port}/manifest.json: ", run.Str("error"), StringComparison.Ordinal);
        Assert.DoesNotContain("Banner-Marker", run.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("Banner-Marker", factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowedHostsElsewhereRefusesLoopbackAndALoopbackRangeAllowsIt()
    {
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        await using (var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowedHosts:0", "*.getdbt.com"))
        {
            var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
            await admin.CreateConnectionAsync("dbt", "local", new { manifest_url = server.ManifestUrl.ToString() });

            var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "local"));

            Assert.Equal("failed", run.Str("status"));
            Assert.Equal($"refused to connect to {server.ManifestUrl}: 127.0.0.1 is not in Dot:Connectors:AllowedHosts: "
                + "connectors on this server reach only the hosts listed there", run.Str("error"));
            Assert.Empty(server.Paths);
        }

        await using (var factory = new DotApiFactory()
            .WithSetting("Dot:Connectors:AllowedHosts:0", "*.getdbt.com")
            .WithSetting("Dot:Connectors:AllowedHosts:1", "127.0.0.0/8"))
        {
            var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
            await admin.CreateConnectionAsync("dbt", "local", new { manifest_url = server.ManifestUrl.ToString() });

            await admin.SyncAsync("dbt", "local");
        }
    }

    /// <summary>
    /// Link-local and cloud metadata addresses are refused at connect time, on the address a name resolves to as well as
    /// on a literal one: before a packet is sent, so at once (a real attempt at an unroutable address would wait for the
    /// 10 s connect timeout).
    /// </summary>
    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address")]
    [InlineData("http://169.254.10.20:8080/manifest.json", "169.254.10.20 is a link-local address")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal (169.254.169.254) is a cloud metadata address")]
    [InlineData("http://[fe80::1]:8080/manifest.json", "fe80::1 is a link-local address")]
    [InlineData("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254 is a cloud metadata address")]
    [InlineData("http://[fd20:ce::254]/computeMetadata/v1/", "fd20:ce::254 is a cloud metadata address")]
    [InlineData("http://metadata6.google.internal/computeMetadata/v1/", "metadata6.google.internal (fd20:ce::254) is a cloud metadata address")]
    [InlineData("http://100.100.100.200/latest/meta-data/", "100.100.100.200 is a cloud metadata address")]
    [InlineData("http://rebound.example.test/manifest.json", "rebound.example.test (169.254.169.254) is a cloud metadata address")]
    public async Task LinkLocalAndMetadataAddressesAreRefusedBeforeAnyPacketIsSent(string url, string reason)
    {
        var dns = new FakeConnectorDns(new(StringComparer.Ordinal)
        {
            ["metadata.google.internal"] = [IPAddress.Parse("169.254.169.254")],
            ["metadata6.google.internal"] = [IPAddress.Parse("fd20:ce::254")],
            ["rebound.example.test"] = [IPAddress.Parse("::ffff:169.254.169.254")],
        });
        await using var factory = new DotApiFactory().WithServices(s => s.AddSingleton<IConnectorDns>(dns));
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "metadata", new { manifest_url = url });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "metadata"), seconds: 20);
        clock.Stop();

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith("refused to connect to ", run.Str("error"), StringComparison.Ordinal);
        Assert.Contains(reason, run.Str("error"), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
    }

    /// <summary>What a file says reaches neither the run's error nor the log: only this server's words, counts and positions.</summary>
    [Theory]
    [InlineData("""{"metadata": {"dbt_schema_version": "Content-Marker-2f4e6a: root:x:0:0"}}""")]
    [InlineData("""{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/Content-Marker-2f4e6a/v1.json"}}""")]
    [InlineData("""{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "Content-Marker-2f4e6a: x"}, "nodes": {}}""")]
    [InlineData("""{"Content-Marker-2f4e6a": [1, 2""")]
    [InlineData("Content-Marker-2f4e6a")]
    public async Task ManifestContentIsNeverQuoted(string content)
    {
        var path = Path.Combine(_directory, "probe.json");
        await File.WriteAllTextAsync(path, content);
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true").WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "probe", new { manifest_path = path });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "probe"));

        Assert.DoesNotContain("Content-Marker", run.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("Content-Marker", factory.Logs.AllText, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BrokenManifests => new()
    {
        { "truncated-25", "the manifest is truncated: the JSON ends after" },
        { "truncated-50", "the manifest is truncated: the JSON ends after" },
        { "truncated-99", "the manifest is truncated: the JSON ends after" },
        { "version-v7", "dbt manifest schema version v7 is not supported: this server reads v9 to v12" },
        { "version-v13", "dbt manifest schema version v13 is not supported: this server reads v9 to v12" },
        { "run-results", "the file is not a dbt manifest: it is dbt's run_results.json" },
        { "no-metadata", "the file is not a dbt manifest: it has no metadata.dbt_schema_version" },
        { "array", "the file is not a dbt manifest: it is a JSON array, not an object" },
        { "nodes-array", "the file is not a dbt manifest: its nodes is a JSON array, not an object" },
        { "html", "the manifest is not valid JSON near line 1, byte 1 of that line" },
        { "empty", "the manifest is empty (0 bytes)" },
    };

    [Theory]
    [MemberData(nameof(BrokenManifests))]
    public async Task BrokenManifestFailsTheRunWithTheReason(string kind, string reason)
    {
        var real = await File.ReadAllBytesAsync(ManifestFacts.FixturePath(JaffleShop));
        var text = Encoding.UTF8.GetString(real);
        byte[] content = kind switch
        {
            "truncated-25" => real[..(real.Length / 4)],
            "truncated-50" => real[..(real.Length / 2)],
            "truncated-99" => real[..^2],
            "version-v7" => Encoding.UTF8.GetBytes(text.Replace("/dbt/manifest/v9.json", "/dbt/manifest/v7.json", StringComparison.Ordinal)),
            "version-v13" => Encoding.UTF8.GetBytes(text.Replace("/dbt/manifest/v9.json", "/dbt/manifest/v13.json", StringComparison.Ordinal)),
            "run-results" => """{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}, "results": []}"""u8.ToArray(),
            "no-metadata" => """{"nodes": {}, "sources": {}}"""u8.ToArray(),
            "array" => "[1, 2, 3]"u8.ToArray(),
            "nodes-array" => """{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": []}"""u8.ToArray(),
            "html" => "<html><body>Sign in to dbt Cloud</body></html>"u8.ToArray(),
            _ => [],
        };
        var path = Path.Combine(_directory, $"{kind}.json");
        await File.WriteAllBytesAsync(path, content);
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "broken", new { manifest_path = path });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "broken"));

        Assert.Equal("failed", run.Str("status"));
        Assert.StartsWith($"{path}: {reason}", run.Str("error"), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await admin.CatalogAsync("dbt", "broken")).GetProperty("sync_id").ValueKind);
    }

    [Theory]
    [InlineData("missing", "the manifest file {dir}/none.json does not exist")]
    [InlineData("relative", "the dbt setting manifest_path must be an absolute path on the server, not manifests/manifest.json")]
    [InlineData("both", "the dbt connection needs exactly one of the settings manifest_path (a file on the server), manifest_url (an http or https URL), or account_id and job_id (dbt Cloud).")]
    [InlineData("neither", "the dbt connection needs exactly one of the settings manifest_path (a file on the server), manifest_url (an http or https URL), or account_id and job_id (dbt Cloud).")]
    [InlineData("job-only", "the dbt settings account_id and job_id must both be given, as numbers (dbt Cloud's ids).")]
    [InlineData("ftp", "the dbt setting manifest_url must be an absolute http or https URL.")]
    public async Task ManifestSettingsThatCannotWorkFailTheRunSayingWhy(string kind, string error)
    {
        object settings = kind switch
        {
            "missing" => new { manifest_path = Path.Combine(_directory, "none.json") },
            "relative" => new { manifest_path = "manifests/manifest.json" },
            "both" => new { manifest_path = "/tmp/manifest.json", manifest_url = "https://example.com/manifest.json" },
            "ftp" => new { manifest_url = "ftp://example.com/manifest.json" },
            "job-only" => new { job_id = "123", cloud_url = "https://ab123.us1.dbt.com" },
            _ => new { },
        };
        await using var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("dbt", "project", settings);

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("dbt", "project"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal(error.Replace("{dir}", _directory, StringComparison.Ordinal), run.Str("error"));
    }

    /// <summary>
    /// A 40 MB manifest whose macros are most of the file, as in real projects: read with a buffer that never grows
    /// past the largest node, so memory does not follow the file's size.
    /// </summary>
    [Fact]
    public async Task LargeManifestIsStreamedWithABufferBoundedByItsLargestNode()
    {
        var path = Path.Combine(_directory, "large.json");
        await WriteLargeManifestAsync(path, models: 3000, macros: 16000);
        var size = new FileInfo(path).Length;

        await using var file = File.OpenRead(path);
        var result = await DbtManifestReader.ReadAsync(file, CancellationToken.None);

        Assert.True(size > 40_000_000, $"{size} bytes");
        Assert.Equal(size, result.Bytes);
        Assert.Equal(3000, result.Models);
        Assert.Equal(3000, result.Catalog.TablesCount);
        Assert.Equal(3000 * 8, result.Catalog.ColumnsCount);
        Assert.Equal("v12", result.SchemaVersion);
        Assert.True(result.PeakBufferBytes <= 256 * 1024, $"peak buffer {result.PeakBufferBytes} bytes for a {size}-byte file");
    }

    [Theory]
    [InlineData(JaffleShop)]
    [InlineData(Analytics)]
    public async Task ManifestArrivingAFewBytesAtATimeGivesTheSameCatalogue(string file)
    {
        var bytes = await File.ReadAllBytesAsync(ManifestFacts.FixturePath(file));

        var whole = await DbtManifestReader.ReadAsync(new MemoryStream(bytes), CancellationToken.None);
        var trickled = await DbtManifestReader.ReadAsync(new TrickleStream(bytes), CancellationToken.None);

        Assert.Equal(JsonSerializer.Serialize(whole.Catalog), JsonSerializer.Serialize(trickled.Catalog));
        Assert.NotEmpty(whole.Catalog.Schemas);
    }

    private static async Task WriteLargeManifestAsync(string path, int models, int macros)
    {
        await using var stream = File.Create(path);
        await using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteStartObject("metadata");
        json.WriteString("dbt_schema_version", "https://schemas.getdbt.com/dbt/manifest/v12.json");
        json.WriteString("dbt_version", "1.9.8");
        json.WriteEndObject();
        json.WriteStartObject("nodes");
        for (var i = 0; i < models; i++)
        {
            json.WriteStartObject($"model.big.model_{i}");
            json.WriteString("resource_type", "model");
            json.WriteString("database", "analytics");
            json.WriteString("schema", $"schema_{i % 20}");
            json.WriteString("name", $"model_{i}");
            json.WriteString("description", $"Model number {i}");
            json.WriteString("raw_code", new string('x', 2000));
            json.WriteStartObject("config");
            json.WriteString("materialized", "table");
            json.WriteEndObject();
            json.WriteStartObject("columns");
            for (var c = 0; c < 8; c++)
            {
                json.WriteStartObject($"col_{c}");
                json.WriteString("name", $"col_{c}");
                json.WriteString("description", $"Column {c} of model {i}");
                json.WriteString("data_type", "varchar");
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
            await json.FlushAsync();
        }

        json.WriteEndObject();
        json.WriteStartObject("sources");
        json.WriteEndObject();
        json.WriteStartObject("macros");
        for (var i = 0; i < macros; i++)
        {
            json.WriteStartObject($"macro.big.macro_{i}");
            json.WriteString("name", $"macro_{i}");
            json.WriteString("macro_sql", new string('m', 2200));
            json.WriteStartArray("depends_on");
            json.WriteStringValue("macro.dbt.run_query");
            json.WriteEndArray();
            json.WriteEndObject();
            await json.FlushAsync();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Hands out its bytes 1 to 13 at a time, so every token and node is cut by a buffer edge somewhere.</summary>
    private sealed class TrickleStream(byte[] bytes) : Stream
    {
        private int _position;
        private int _step;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => bytes.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(buffer.Length, (_step++ % 13) + 1), bytes.Length - _position);
            bytes.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

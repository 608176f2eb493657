using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Validation;

namespace Dot.Api.Connectors.Tests;

/// <summary>
/// The dbt connector on real manifests (Fixtures/dbt: dbt 1.5.1 schema v9 and dbt 1.9.8 schema v12), from a file and
/// over http, compared with what the test reads from the same file on its own; broken manifests; the streaming reader;
/// the settings rule the server runs at creation. Driven directly; through the server: tests/Dot.Api.Tests,
/// Sync/ConnectorSyncTests.cs.
/// </summary>
[Trait("Store", "any")]
public sealed class DbtConnectorTests : IDisposable
{
    private const string JaffleShop = "jaffle_shop-v9.manifest.json";
    private const string Analytics = "analytics-v12.manifest.json";

    /// <summary>What a server with <c>Dot:Connectors:AllowManifestPath</c> on has.</summary>
    private static readonly Dictionary<string, string?> AllowManifestPath = new() { ["Dot:Connectors:AllowManifestPath"] = "true" };

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

    /// <summary>The errors the server's settings rules give a dbt connection at creation, by field.</summary>
    private static Dictionary<string, string[]> RuleErrors(ConnectorHost host, object settings)
    {
        var errors = new FieldErrors();
        var values = ConnectorHost.Job("dbt", settings).Settings;
        foreach (var rule in host.SettingsRules)
        {
            rule.Check("dbt", values, errors);
        }

        return errors.ToDictionary();
    }

    [Theory]
    [InlineData(JaffleShop, "v9")]
    [InlineData(Analytics, "v12")]
    public async Task DbtManifestFileIsSyncedIntoTheCatalogue(string file, string version)
    {
        var path = ManifestFacts.FixturePath(file);
        var expected = ManifestFacts.Relations(path);
        using var host = new ConnectorHost(AllowManifestPath);

        var outcome = await host.SyncAsync("dbt", new { manifest_path = path });

        AssertSameRelations(expected, ConnectorHost.Json(outcome.Catalog));
        Assert.Equal(expected.Keys.Select(k => k[..k.LastIndexOf('.')]).Distinct().Count(), outcome.SchemasCount);
        Assert.Equal(expected.Count, outcome.TablesCount);
        Assert.Equal(expected.Values.Sum(r => r.Columns.Count), outcome.ColumnsCount);
        Assert.Contains(host.Logs.Entries, e => e.Contains($"manifest {version}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnalyticsManifestKeepsDescriptionsTypesAndSameNamedRelationsOfBothDatabases()
    {
        using var host = new ConnectorHost(AllowManifestPath);

        var outcome = await host.SyncAsync("dbt", new { manifest_path = ManifestFacts.FixturePath(Analytics) });
        var tables = ConnectorHost.Json(outcome.Catalog).Tables(withDatabase: true);

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
        using var host = new ConnectorHost();
        var settings = new { manifest_url = server.ManifestUrl.ToString() };

        var outcome = await host.SyncAsync("dbt", settings, new { manifest_token = token });
        var refused = await host.FailAsync("dbt", settings);
        var wrong = await host.FailAsync("dbt", settings, new { authorization = "Token not-the-right-one-77" });

        AssertSameRelations(ManifestFacts.Relations(path), ConnectorHost.Json(outcome.Catalog));
        Assert.Equal($"Bearer {token}", server.AuthorizationHeaders.First());
        Assert.Equal($"{server.ManifestUrl} answered 401: give the connection a manifest_token (or authorization) secret", refused);
        Assert.Equal($"{server.ManifestUrl} answered 401: check the manifest_token (or api_token, or authorization) secret", wrong);
        Assert.Contains("Token not-the-right-one-77", server.AuthorizationHeaders);
        Assert.DoesNotContain(token, host.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-right-one-77", host.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>The settings of docs/sync.md's example (account_id, job_id, secret api_token) name the job's latest manifest in dbt Cloud.</summary>
    [Fact]
    public async Task DbtCloudAccountAndJobSettingsFetchTheJobsLatestManifest()
    {
        const string token = "dbtc_Cloud-Api-Token-9a8b7c";
        var path = ManifestFacts.FixturePath(JaffleShop);
        await using var server = await new ManifestServer(path, $"Bearer {token}").StartAsync();
        using var host = new ConnectorHost();

        var outcome = await host.SyncAsync("dbt", new { account_id = 1, job_id = "123", cloud_url = server.BaseAddress.ToString() }, new { api_token = token });

        AssertSameRelations(ManifestFacts.Relations(path), ConnectorHost.Json(outcome.Catalog));
        Assert.DoesNotContain(token, host.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>
    /// dbt retired the shared region URLs (https://cloud.getdbt.com, https://emea.dbt.com, https://au.dbt.com) for
    /// account-specific ones: account_id and job_id need cloud_url, and a retired host is refused at creation (by the
    /// dbt settings rule, which the server runs on every connection it stores), naming the setting and what to use
    /// instead. That the server answers its errors as a 422: tests/Dot.Api.Tests, ConnectionsTests.
    /// </summary>
    [Theory]
    [InlineData("""{"account_id": 1234, "job_id": "567"}""", "settings.cloud_url", "need the setting cloud_url")]
    [InlineData("""{"account_id": 1234, "job_id": "567", "cloud_url": "https://cloud.getdbt.com"}""", "settings.cloud_url", "names cloud.getdbt.com")]
    [InlineData("""{"account_id": 1234, "job_id": "567", "cloud_url": "EMEA.dbt.com/"}""", "settings.cloud_url", "names emea.dbt.com")]
    [InlineData("""{"manifest_url": "https://au.dbt.com/api/v2/accounts/1/jobs/2/artifacts/manifest.json"}""", "settings.manifest_url", "names au.dbt.com")]
    public void RetiredDbtCloudUrlsAreRefusedAtCreationSayingWhatToUse(string settings, string field, string reason)
    {
        using var host = new ConnectorHost();

        var errors = RuleErrors(host, JsonDocument.Parse(settings).RootElement);

        var message = Assert.Single(errors[field]);
        Assert.Contains(reason, message, StringComparison.Ordinal);
        Assert.Contains("https://ACCOUNT_PREFIX.us1.dbt.com", message, StringComparison.Ordinal);
    }

    /// <summary>The rule concerns dbt connections only, and a dbt Cloud connection on its access URL passes it.</summary>
    [Fact]
    public void CurrentDbtCloudSettingsAndOtherTypesPassTheRule()
    {
        using var host = new ConnectorHost();
        var errors = new FieldErrors();

        foreach (var rule in host.SettingsRules)
        {
            rule.Check("postgres", ConnectorHost.Job("postgres", new { manifest_path = "/x", cloud_url = "https://cloud.getdbt.com" }).Settings, errors);
        }

        Assert.True(errors.IsEmpty);
        Assert.Empty(RuleErrors(host, new { account_id = 1234, job_id = "567", cloud_url = "https://ab123.us1.dbt.com" }));
    }

    /// <summary>A connection stored before the rule (relying on the old default, or naming a retired host) fails its run saying what to use.</summary>
    [Theory]
    [InlineData(null, "the dbt settings account_id and job_id need the setting cloud_url: your account's access URL, https://ACCOUNT_PREFIX.us1.dbt.com")]
    [InlineData("https://cloud.getdbt.com/", "the dbt setting cloud_url names cloud.getdbt.com, a dbt Cloud region URL that dbt retired on 1 November 2026: use your account's access URL, https://ACCOUNT_PREFIX.us1.dbt.com")]
    public async Task StoredConnectionOnTheRetiredDefaultFailsItsRunSayingWhatToUse(string? cloudUrl, string error)
    {
        using var host = new ConnectorHost();
        var settings = new Dictionary<string, object> { ["account_id"] = 1234, ["job_id"] = "567" };
        if (cloudUrl is not null)
        {
            settings["cloud_url"] = cloudUrl;
        }

        Assert.StartsWith(error, await host.FailAsync("dbt", settings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableOrMissingManifestUrlFailsSayingSo()
    {
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        var closed = new Uri($"http://127.0.0.1:{server.BaseAddress.Port}/");
        await server.DisposeAsync();
        await using var other = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        using var host = new ConnectorHost();

        var gone = await host.FailAsync("dbt", new { manifest_url = new Uri(closed, "manifest.json").ToString() });
        var missing = await host.FailAsync("dbt", new { manifest_url = new Uri(other.BaseAddress, "nothing/manifest.json").ToString() });

        Assert.StartsWith($"could not reach {closed}manifest.json: ", gone, StringComparison.Ordinal);
        Assert.Equal($"{other.BaseAddress}nothing/manifest.json answered 404", missing);
    }

    /// <summary>
    /// A connection stored before URL credentials were refused: its password and signature reach no log line and not
    /// the run's error, and nothing is sent. That the server's answers mask them: tests/Dot.Api.Tests, ConnectionsTests.
    /// </summary>
    [Fact]
    public async Task StoredUrlWithAPasswordNeverReachesTheLogsOrTheRunError()
    {
        const string password = "Url-Password-3b9d1f";
        const string signature = "Url-Signature-8c2e4a";
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        using var host = new ConnectorHost();
        var url = $"http://dot-user:{password}@127.0.0.1:{server.BaseAddress.Port}{ManifestServer.ArtifactPath}?sig={signature}";

        var error = await host.FailAsync("dbt", new { manifest_url = url });

        Assert.StartsWith("the dbt setting manifest_url holds a user name, a password or a query string", error, StringComparison.Ordinal);
        host.AssertNoSecret(error, password, signature);
        Assert.Empty(server.AuthorizationHeaders); // nothing was sent
    }

    /// <summary>
    /// A secret's value that also stands in the URL (a token in the path) is scrubbed from the connector's log lines by
    /// the connector, and from the run's error by the scrubbing every error gets (<see cref="ConnectionSecretValues.Scrub"/>).
    /// </summary>
    [Fact]
    public async Task SecretValueInTheManifestUrlIsScrubbedFromTheLogsAndTheRunError()
    {
        const string token = "Path-Token-5e6f7a8b";
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        using var host = new ConnectorHost();
        var job = ConnectorHost.Job("dbt", new { manifest_url = new Uri(server.BaseAddress, $"t/{token}/manifest.json").ToString() },
            new { manifest_token = token });

        var error = job.Secrets.Scrub(await host.FailAsync(job)); // as the worker stores it

        Assert.StartsWith($"{server.BaseAddress}t/[REDACTED]/manifest.json answered 404", error, StringComparison.Ordinal);
        Assert.Contains(host.Logs.Entries, e => e.Contains("t/[REDACTED]/manifest.json", StringComparison.Ordinal));
        Assert.DoesNotContain(token, host.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>A signed URL (its signature in the query) is a secret: given as the secret manifest_url, it is fetched and never shown.</summary>
    [Fact]
    public async Task SignedUrlGivenAsTheSecretManifestUrlIsFetched()
    {
        const string signature = "Sig-Secret-1a2b3c4d";
        var path = ManifestFacts.FixturePath(JaffleShop);
        await using var server = await new ManifestServer(path, null).StartAsync();
        using var host = new ConnectorHost();

        var outcome = await host.SyncAsync("dbt", null, new { manifest_url = $"{server.ManifestUrl}?X-Amz-Signature={signature}" });

        AssertSameRelations(ManifestFacts.Relations(path), ConnectorHost.Json(outcome.Catalog));
        Assert.DoesNotContain(signature, host.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>
    /// The settings rule refuses manifest_path unless the server allows it, naming the setting that does; allowed, the
    /// file is read. That the server runs the rule at creation (a 422): tests/Dot.Api.Tests, ConnectionsTests.
    /// </summary>
    [Fact]
    public async Task ManifestPathIsRefusedAtCreationUnlessTheServerAllowsIt()
    {
        var path = ManifestFacts.FixturePath(JaffleShop);
        using (var host = new ConnectorHost())
        {
            var message = Assert.Single(RuleErrors(host, new { manifest_path = path })["settings.manifest_path"]);

            Assert.Contains("Dot:Connectors:AllowManifestPath", message, StringComparison.Ordinal);
        }

        using (var host = new ConnectorHost(AllowManifestPath))
        {
            Assert.Empty(RuleErrors(host, new { manifest_path = path }));

            await host.SyncAsync("dbt", new { manifest_path = path });
        }
    }

    /// <summary>A manifest_path connection stored while the setting was on (or before it existed) fails its runs once it is off.</summary>
    [Fact]
    public async Task StoredManifestPathConnectionFailsItsRunByDefault()
    {
        using var host = new ConnectorHost();

        var error = await host.FailAsync("dbt", new { manifest_path = ManifestFacts.FixturePath(JaffleShop) });

        Assert.Contains("Dot:Connectors:AllowManifestPath", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedirectIsNotFollowed()
    {
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("dbt", new { manifest_url = new Uri(server.BaseAddress, ManifestServer.RedirectPath).ToString() });

        Assert.Equal($"{new Uri(server.BaseAddress, ManifestServer.RedirectPath)} redirects (answered 302): this server does not follow redirects; "
            + "configure the final URL in the connection", error);
        Assert.Equal([ManifestServer.RedirectPath], server.Paths);
    }

    [Fact]
    public async Task ErrorAnswerIsReportedByItsStatusCodeWithoutItsReasonPhraseOrBody()
    {
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        using var host = new ConnectorHost();
        var url = new Uri(server.BaseAddress, ManifestServer.ErrorPath);

        var error = await host.FailAsync("dbt", new { manifest_url = url.ToString() });

        Assert.Equal($"{url} answered 500", error);
        host.AssertNoSecret(error, ManifestServer.ErrorMarker);
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
        using var host = new ConnectorHost();

        var error = await host.FailAsync("dbt", new { manifest_url = $"http://127.0.0.1:{port}/manifest.json" });
        await serving;

        Assert.StartsWith($"could not reach http://127.0.0.1:{port}/manifest.json: ", error, StringComparison.Ordinal);
        host.AssertNoSecret(error, "Banner-Marker");
    }

    [Fact]
    public async Task AllowedHostsElsewhereRefusesLoopbackAndALoopbackRangeAllowsIt()
    {
        await using var server = await new ManifestServer(ManifestFacts.FixturePath(JaffleShop), null).StartAsync();
        var settings = new { manifest_url = server.ManifestUrl.ToString() };
        using (var host = new ConnectorHost(new Dictionary<string, string?> { ["Dot:Connectors:AllowedHosts:0"] = "*.getdbt.com" }))
        {
            var error = await host.FailAsync("dbt", settings);

            Assert.Equal($"refused to connect to {server.ManifestUrl}: 127.0.0.1 is not in Dot:Connectors:AllowedHosts: "
                + "connectors on this server reach only the hosts listed there", error);
            Assert.Empty(server.Paths);
        }

        using (var host = new ConnectorHost(new Dictionary<string, string?>
        {
            ["Dot:Connectors:AllowedHosts:0"] = "*.getdbt.com",
            ["Dot:Connectors:AllowedHosts:1"] = "127.0.0.0/8",
        }))
        {
            await host.SyncAsync("dbt", settings);
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
        using var host = new ConnectorHost(dns: dns);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await host.FailAsync("dbt", new { manifest_url = url });
        clock.Stop();

        Assert.StartsWith("refused to connect to ", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
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
        using var host = new ConnectorHost(AllowManifestPath);

        var (_, error) = await host.RunAsync("dbt", new { manifest_path = path });

        host.AssertNoSecret(error ?? "", "Content-Marker");
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
        using var host = new ConnectorHost(AllowManifestPath);

        var error = await host.FailAsync("dbt", new { manifest_path = path });

        Assert.StartsWith($"{path}: {reason}", error, StringComparison.Ordinal);
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
        using var host = new ConnectorHost(AllowManifestPath);

        Assert.Equal(error.Replace("{dir}", _directory, StringComparison.Ordinal), await host.FailAsync("dbt", settings));
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

using System.Security.Cryptography;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Connectors;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>
/// The bigquery connector against <see cref="BigQueryFake"/> (Google's token endpoint verifying the JWT-bearer assertion
/// with RSA, and BigQuery's REST API accepting only the token it issued), through the real pipeline: a connection
/// created with an admin token, a sync triggered and awaited, the catalogue read back and compared with the fixtures.
/// Tested against the fake only, not a real Google Cloud project.
/// </summary>
[Trait("Store", "any")]
public sealed class BigQueryConnectorTests : IDisposable
{
    private const string Project = "dot-analytics-prod";
    private const string ClientEmail = "dot-catalog@dot-analytics-prod.iam.gserviceaccount.com";

    private readonly RSA _key = RSA.Create(2048);

    public BigQueryConnectorTests() => BigQueryRestApi.WaitMilliseconds = 100;

    public void Dispose() => _key.Dispose();

    private string KeyJson(BigQueryFake fake, RSA? key = null, string? tokenUri = null, string type = "service_account") => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["type"] = type,
        ["project_id"] = Project,
        ["private_key_id"] = "5f1c2a3b4d5e6f708192a3b4c5d6e7f801234567",
        ["private_key"] = (key ?? _key).ExportPkcs8PrivateKeyPem(),
        ["client_email"] = ClientEmail,
        ["client_id"] = "104729384756102938475",
        ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
        ["token_uri"] = tokenUri ?? fake.TokenUri.ToString(),
        ["auth_provider_x509_cert_url"] = "https://www.googleapis.com/oauth2/v1/certs",
        ["client_x509_cert_url"] = "https://www.googleapis.com/robot/v1/metadata/x509/dot-catalog%40dot-analytics-prod.iam.gserviceaccount.com",
        ["universe_domain"] = "googleapis.com",
    });

    /// <summary>A line from the middle of the key's base64: no part of the key may show anywhere.</summary>
    private static string KeyLine(RSA key) => key.ExportPkcs8PrivateKeyPem().Split('\n')[5];

    private static List<JsonElement> Rows(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(BigQueryFake.FixturePath(file)));
        return [.. doc.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("f").Clone())];
    }

    private static string? V(JsonElement row, int i) => row[i].GetProperty("v").GetString();

    /// <summary>The catalogue of a dataset matches its fixtures: tables, kinds, columns with type, nullability, position and description.</summary>
    private static void AssertDataset(JsonElement catalog, string dataset)
    {
        var schema = catalog.GetProperty("schemas").EnumerateArray().Single(s => s.Str("name") == dataset);
        Assert.Equal(Project, schema.Str("database"));
        var tables = schema.GetProperty("tables").EnumerateArray().ToDictionary(t => t.Str("name")!, StringComparer.Ordinal);
        var expected = Rows($"{dataset}.tables.json");
        Assert.Equal(expected.Select(t => V(t, 0)!).Order(StringComparer.Ordinal), tables.Keys.Order(StringComparer.Ordinal));
        var columns = Rows($"{dataset}.columns.json");
        foreach (var table in expected)
        {
            var name = V(table, 0)!;
            var kind = V(table, 1) switch { "VIEW" => "view", "MATERIALIZED VIEW" => "materialized_view", "EXTERNAL" => "foreign_table", _ => "table" };
            Assert.Equal((name, kind), (name, tables[name].Str("kind")));
            var want = columns.Where(c => V(c, 0) == name)
                .Select(c => (V(c, 1), V(c, 4), V(c, 3) == "YES", int.Parse(V(c, 2)!, System.Globalization.CultureInfo.InvariantCulture), V(c, 5)))
                .OrderBy(c => c.Item4).ToList();
            var got = tables[name].GetProperty("columns").EnumerateArray()
                .Select(c => (c.Str("name"), c.Str("data_type"), c.GetProperty("nullable").GetBoolean(), c.GetProperty("position").GetInt32(), c.Str("description")))
                .ToList();
            Assert.Equal(want, got);
        }
    }

    [Fact]
    public async Task EveryDatasetIsReadWithPagingPollingAndTheDatasetsLocation()
    {
        await using var factory = new DotApiFactory().WithTraceLogging();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, factory.Time) { IncompleteQueries = { "INFORMATION_SCHEMA.COLUMNS" } }.StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("bigquery", "prod", new { project = Project, api_url = fake.BaseAddress.ToString() },
            new { service_account_key = KeyJson(fake) });

        var run = await admin.SyncAsync("bigquery", "prod");
        var catalog = await admin.CatalogAsync("bigquery", "prod");

        AssertDataset(catalog, "sales");
        AssertDataset(catalog, "marketing_eu");
        Assert.Empty(catalog.GetProperty("schemas").EnumerateArray().Single(s => s.Str("name") == "staging").GetProperty("tables").EnumerateArray());
        Assert.Equal((3, 6, 15), (run.GetProperty("schemas_count").GetInt32(), run.GetProperty("tables_count").GetInt32(), run.GetProperty("columns_count").GetInt32()));
        var tables = catalog.Tables();
        Assert.Equal("One row per order. Amounts in \"EUR\".\nSee the wiki.", tables["sales.orders"].Str("description"));
        Assert.Equal("Files in gs://dot-events/", tables["sales.events_ext"].Str("description"));
        Assert.Null(tables["sales.customers"].Str("description"));
        Assert.Equal("ARRAY<STRUCT<sku STRING, quantity INT64>>", tables["sales.orders"].GetProperty("columns")[2].Str("data_type"));

        // datasets.list paged (three pages); query results paged and polled; each dataset's query in its location.
        Assert.Equal(3, fake.Requests.Count(r => r.StartsWith($"GET /bigquery/v2/projects/{Project}/datasets", StringComparison.Ordinal)));
        Assert.Contains(fake.Requests, r => r.Contains("/queries/job_", StringComparison.Ordinal) && r.Contains("pageToken=", StringComparison.Ordinal));
        Assert.Contains(fake.Queries, q => q.Query.Contains("`marketing_eu`", StringComparison.Ordinal) && q.Location == "EU");
        Assert.All(fake.Queries, q => Assert.False(q.LegacySql));
        Assert.Equal(1, fake.TokensIssued);
        Assert.Empty(fake.Refusals);
        factory.AssertNoSecret(run, KeyLine(_key));
        Assert.DoesNotContain("ya29.", factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatasetsSettingAndTheKeysProjectAreUsed()
    {
        await using var factory = new DotApiFactory();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, factory.Time).StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("bigquery", "eu", new { datasets = "marketing_eu", location = "EU", api_url = fake.BaseAddress.ToString() },
            new { service_account_key = KeyJson(fake) });

        await admin.SyncAsync("bigquery", "eu");

        var catalog = await admin.CatalogAsync("bigquery", "eu");
        AssertDataset(catalog, "marketing_eu");
        Assert.Single(catalog.GetProperty("schemas").EnumerateArray());
        Assert.DoesNotContain(fake.Requests, r => r.Contains("/datasets", StringComparison.Ordinal));
        Assert.All(fake.Queries, q => Assert.Equal("EU", q.Location));
    }

    [Fact]
    public async Task KeyThatIsNotTheServiceAccountsIsRefusedByTheTokenEndpoint()
    {
        using var other = RSA.Create(2048);
        await using var factory = new DotApiFactory().WithTraceLogging();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, factory.Time).StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("bigquery", "wrong", new { api_url = fake.BaseAddress.ToString() }, new { service_account_key = KeyJson(fake, other) });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("bigquery", "wrong"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"the token endpoint {fake.TokenUri} refused the service account {ClientEmail} (answered 400) (invalid_grant: Invalid JWT Signature.): "
            + "check the secret service_account_key (a current key of a service account that exists)", run.Str("error"));
        Assert.Contains("bad signature", fake.Refusals);
        Assert.DoesNotContain(fake.Requests, r => r.Contains("/bigquery/", StringComparison.Ordinal));
        factory.AssertNoSecret(run, KeyLine(other));
    }

    [Theory]
    [InlineData("not json", "the bigquery secret service_account_key is not JSON: give the whole JSON key file of the service account.")]
    [InlineData("authorized_user", "the bigquery secret service_account_key is not a service-account key (its type is not service_account).")]
    [InlineData("http token_uri", "the token_uri of the bigquery secret service_account_key must be an https URL (http only to a loopback address), without user info or a query, such as https://oauth2.googleapis.com/token")]
    public async Task UnusableKeyFailsNamingTheSecretBeforeAnythingIsSent(string kind, string error)
    {
        await using var factory = new DotApiFactory().WithTraceLogging();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, factory.Time).StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var key = kind switch
        {
            "not json" => "-----BEGIN PRIVATE KEY-----\n" + KeyLine(_key),
            "authorized_user" => KeyJson(fake, type: "authorized_user"),
            _ => KeyJson(fake, tokenUri: "http://oauth.example.com/token"),
        };
        await admin.CreateConnectionAsync("bigquery", "bad-key", new { project = Project, api_url = fake.BaseAddress.ToString() }, new { service_account_key = key });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("bigquery", "bad-key"));

        Assert.Equal(("failed", error), (run.Str("status"), run.Str("error")));
        Assert.Empty(fake.Requests);
        factory.AssertNoSecret(run, KeyLine(_key));
    }

    [Fact]
    public async Task MissingDatasetFailsWithBigQuerysStatusAndMessage()
    {
        await using var factory = new DotApiFactory();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, factory.Time).StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("bigquery", "missing", new { datasets = "sales,nope", api_url = fake.BaseAddress.ToString() },
            new { service_account_key = KeyJson(fake) });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("bigquery", "missing"));

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"BigQuery at {fake.BaseAddress} answered 404 reading {Project}.nope.INFORMATION_SCHEMA.COLUMNS (NOT_FOUND: Not found: Dataset "
            + $"{Project}:nope was not found in location US): check the settings project, datasets and location", run.Str("error"));
    }

    [Fact]
    public async Task UnreachableApiOrTokenEndpointFailsSayingWhich()
    {
        await using var factory = new DotApiFactory();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, factory.Time).StartAsync();
        await using var gone = await new BigQueryFake(_key, ClientEmail, Project, factory.Time).StartAsync();
        var closed = gone.BaseAddress;
        var closedKey = KeyJson(gone);
        await gone.DisposeAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("bigquery", "no-api", new { api_url = closed.ToString() }, new { service_account_key = KeyJson(fake) });
        await admin.CreateConnectionAsync("bigquery", "no-token", new { api_url = fake.BaseAddress.ToString() }, new { service_account_key = closedKey });

        var noApi = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("bigquery", "no-api"), seconds: 30);
        var noToken = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("bigquery", "no-token"), seconds: 30);

        Assert.StartsWith($"could not reach {closed}: ", noApi.Str("error"), StringComparison.Ordinal);
        Assert.StartsWith($"could not reach the token endpoint {closed}token: ", noToken.Str("error"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowAnswerFailsAfterTimeoutSeconds()
    {
        await using var factory = new DotApiFactory().WithTraceLogging();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, factory.Time) { Delay = TimeSpan.FromSeconds(30) }.StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("bigquery", "slow", new { timeout_seconds = 1, api_url = fake.BaseAddress.ToString() },
            new { service_account_key = KeyJson(fake) });

        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync("bigquery", "slow"), seconds: 20);

        Assert.Equal(("failed", $"timed out after 1 s reading the catalogue from BigQuery at {fake.BaseAddress} (timeout_seconds)"), (run.Str("status"), run.Str("error")));
        factory.AssertNoSecret(run, KeyLine(_key));
    }

    /// <summary>The worker's own limit on a run (Dot:Sync:RunTimeoutMinutes, on the server's clock) cancels a request under way.</summary>
    [Fact]
    public async Task RunCancelledByTheWorkerStopsTheRequestUnderWay()
    {
        await using var factory = new DotApiFactory();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, factory.Time) { Delay = TimeSpan.FromMinutes(5) }.StartAsync();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("bigquery", "stuck", new { api_url = fake.BaseAddress.ToString() }, new { service_account_key = KeyJson(fake) });
        var syncId = await admin.TriggerSyncAsync("bigquery", "stuck");
        await Eventually.TrueAsync(() => fake.Requests.Any(r => r.Contains("/bigquery/", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the connector never reached the fake");

        factory.Time.Advance(TimeSpan.FromMinutes(61));
        var run = await admin.WaitForRunAsync(syncId, seconds: 20);

        Assert.Equal(("failed", "the bigquery connector did not finish within 60 minutes"), (run.Str("status"), run.Str("error")));
    }

    [Theory]
    [InlineData("\"plain\"", "plain")]
    [InlineData("\"It\\'s \\\"quoted\\\"\\nnext line\"", "It's \"quoted\"\nnext line")]
    [InlineData("'single'", "single")]
    [InlineData("\"\"\"triple \"quoted\" text\"\"\"", "triple \"quoted\" text")]
    [InlineData("\"caf\\u00e9 \\\\ done\"", "café \\ done")]
    [InlineData("not a literal", "not a literal")]
    public void TableOptionDescriptionLiteralIsDecoded(string literal, string text)
        => Assert.Equal(text, BigQueryConnector.StringLiteral(literal));
}

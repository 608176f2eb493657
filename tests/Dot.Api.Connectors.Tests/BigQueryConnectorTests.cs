using System.Security.Cryptography;
using System.Text.Json;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Connectors.Tests;

/// <summary>
/// The bigquery connector against <see cref="BigQueryFake"/> (Google's token endpoint verifying the JWT-bearer assertion
/// with RSA, and BigQuery's REST API accepting only the token it issued), driven directly: a job with the connection's
/// settings and key, the catalogue it returns compared with the fixtures. Tested against the fake only, not a real
/// Google Cloud project. Through the server: tests/Dot.Api.Tests, Sync/ConnectorSyncTests.cs.
/// </summary>
[Trait("Store", "any")]
public sealed class BigQueryConnectorTests : IDisposable
{
    private const string Project = "dot-analytics-prod";
    private const string ClientEmail = "dot-catalog@dot-analytics-prod.iam.gserviceaccount.com";

    private readonly RSA _key = RSA.Create(2048);

    public BigQueryConnectorTests() => BigQueryRestApi.WaitMilliseconds = 100;

    public void Dispose() => _key.Dispose();

    private string KeyJson(BigQueryFake fake, RSA? key = null, string? tokenUri = null, string type = "service_account")
        => fake.ServiceAccountKey(key ?? _key, tokenUri, type);

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
        using var host = new ConnectorHost();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, host.Time) { IncompleteQueries = { "INFORMATION_SCHEMA.COLUMNS" } }.StartAsync();

        var outcome = await host.SyncAsync("bigquery", new { project = Project, api_url = fake.BaseAddress.ToString() },
            new { service_account_key = KeyJson(fake) });
        var catalog = ConnectorHost.Json(outcome.Catalog);

        AssertDataset(catalog, "sales");
        AssertDataset(catalog, "marketing_eu");
        Assert.Empty(catalog.GetProperty("schemas").EnumerateArray().Single(s => s.Str("name") == "staging").GetProperty("tables").EnumerateArray());
        Assert.Equal((3, 6, 15), (outcome.SchemasCount, outcome.TablesCount, outcome.ColumnsCount));
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
        Assert.DoesNotContain(KeyLine(_key), host.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("ya29.", host.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatasetsSettingAndTheKeysProjectAreUsed()
    {
        using var host = new ConnectorHost();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, host.Time).StartAsync();

        var outcome = await host.SyncAsync("bigquery", new { datasets = "marketing_eu", location = "EU", api_url = fake.BaseAddress.ToString() },
            new { service_account_key = KeyJson(fake) });

        var catalog = ConnectorHost.Json(outcome.Catalog);
        AssertDataset(catalog, "marketing_eu");
        Assert.Single(catalog.GetProperty("schemas").EnumerateArray());
        Assert.DoesNotContain(fake.Requests, r => r.Contains("/datasets", StringComparison.Ordinal));
        Assert.All(fake.Queries, q => Assert.Equal("EU", q.Location));
    }

    [Fact]
    public async Task KeyThatIsNotTheServiceAccountsIsRefusedByTheTokenEndpoint()
    {
        using var other = RSA.Create(2048);
        using var host = new ConnectorHost();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, host.Time).StartAsync();

        var error = await host.FailAsync("bigquery", new { api_url = fake.BaseAddress.ToString() }, new { service_account_key = KeyJson(fake, other) });

        Assert.Equal($"the token endpoint {fake.TokenUri} refused the service account {ClientEmail} (answered 400) (invalid_grant: Invalid JWT Signature.): "
            + "check the secret service_account_key (a current key of a service account that exists)", error);
        Assert.Contains("bad signature", fake.Refusals);
        Assert.DoesNotContain(fake.Requests, r => r.Contains("/bigquery/", StringComparison.Ordinal));
        host.AssertNoSecret(error, KeyLine(other));
    }

    [Theory]
    [InlineData("not json", "the bigquery secret service_account_key is not JSON: give the whole JSON key file of the service account.")]
    [InlineData("authorized_user", "the bigquery secret service_account_key is not a service-account key (its type is not service_account).")]
    [InlineData("http token_uri", "the token_uri of the bigquery secret service_account_key must be an https URL (http only to a loopback address), without user info or a query, such as https://oauth2.googleapis.com/token")]
    public async Task UnusableKeyFailsNamingTheSecretBeforeAnythingIsSent(string kind, string error)
    {
        using var host = new ConnectorHost();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, host.Time).StartAsync();
        var key = kind switch
        {
            "not json" => "-----BEGIN PRIVATE KEY-----\n" + KeyLine(_key),
            "authorized_user" => KeyJson(fake, type: "authorized_user"),
            _ => KeyJson(fake, tokenUri: "http://oauth.example.com/token"),
        };

        var failure = await host.FailAsync("bigquery", new { project = Project, api_url = fake.BaseAddress.ToString() }, new { service_account_key = key });

        Assert.Equal(error, failure);
        Assert.Empty(fake.Requests);
        host.AssertNoSecret(failure, KeyLine(_key));
    }

    [Fact]
    public async Task MissingDatasetFailsWithBigQuerysStatusAndMessage()
    {
        using var host = new ConnectorHost();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, host.Time).StartAsync();

        var error = await host.FailAsync("bigquery", new { datasets = "sales,nope", api_url = fake.BaseAddress.ToString() },
            new { service_account_key = KeyJson(fake) });

        Assert.Equal($"BigQuery at {fake.BaseAddress} answered 404 reading {Project}.nope.INFORMATION_SCHEMA.COLUMNS (NOT_FOUND: Not found: Dataset "
            + $"{Project}:nope was not found in location US): check the settings project, datasets and location", error);
    }

    [Fact]
    public async Task UnreachableApiOrTokenEndpointFailsSayingWhich()
    {
        using var host = new ConnectorHost();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, host.Time).StartAsync();
        await using var gone = await new BigQueryFake(_key, ClientEmail, Project, host.Time).StartAsync();
        var closed = gone.BaseAddress;
        var closedKey = KeyJson(gone);
        await gone.DisposeAsync();

        var noApi = await host.FailAsync("bigquery", new { api_url = closed.ToString() }, new { service_account_key = KeyJson(fake) });
        var noToken = await host.FailAsync("bigquery", new { api_url = fake.BaseAddress.ToString() }, new { service_account_key = closedKey });

        Assert.StartsWith($"could not reach {closed}: ", noApi, StringComparison.Ordinal);
        Assert.StartsWith($"could not reach the token endpoint {closed}token: ", noToken, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowAnswerFailsAfterTimeoutSeconds()
    {
        using var host = new ConnectorHost();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, host.Time) { Delay = TimeSpan.FromSeconds(30) }.StartAsync();

        var error = await host.FailAsync("bigquery", new { timeout_seconds = 1, api_url = fake.BaseAddress.ToString() },
            new { service_account_key = KeyJson(fake) });

        Assert.Equal($"timed out after 1 s reading the catalogue from BigQuery at {fake.BaseAddress} (timeout_seconds)", error);
        host.AssertNoSecret(error, KeyLine(_key));
    }

    /// <summary>
    /// A run cancelled while a request is under way (the worker's run timeout, or the server stopping) ends at once, as
    /// cancelled. That the worker's timeout cancels it: tests/Dot.Api.Tests, ConnectorSyncTests.
    /// </summary>
    [Fact]
    public async Task RunCancelledWhileARequestIsUnderWayStopsPromptly()
    {
        using var host = new ConnectorHost();
        await using var fake = await new BigQueryFake(_key, ClientEmail, Project, host.Time) { Delay = TimeSpan.FromMinutes(5) }.StartAsync();
        var job = ConnectorHost.Job("bigquery", new { api_url = fake.BaseAddress.ToString() }, new { service_account_key = KeyJson(fake) });
        using var cancel = new CancellationTokenSource();
        var run = host.Connector("bigquery").RunAsync(job, cancel.Token);
        await Eventually.TrueAsync(() => fake.Requests.Any(r => r.Contains("/bigquery/", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the connector never reached the fake");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
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

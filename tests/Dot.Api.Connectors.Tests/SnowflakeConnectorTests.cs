using System.Security.Cryptography;
using System.Text.Json;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Connectors.Tests;

/// <summary>
/// The snowflake connector against <see cref="SnowflakeFake"/> (the SQL API's wire format, JWTs verified with RSA), driven
/// directly: a job with the connection's settings and key, the catalogue it returns compared with the fixtures. Tested
/// against the fake only, not a real Snowflake account. Through the server: tests/Dot.Api.Tests, Sync/ConnectorSyncTests.cs.
/// </summary>
[Trait("Store", "any")]
public sealed class SnowflakeConnectorTests : IDisposable
{
    private const string Account = "myorg-myaccount";
    private const string User = "dot_reader";
    private const string Passphrase = "Key-Passphrase-7c1d9e";

    private readonly RSA _key = RSA.Create(2048);

    public SnowflakeConnectorTests() => SnowflakeSqlApi.FirstPoll = TimeSpan.FromMilliseconds(20);

    public void Dispose() => _key.Dispose();

    private string EncryptedPem => _key.ExportEncryptedPkcs8PrivateKeyPem(Passphrase,
        new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10000));

    /// <summary>A line from the middle of the key's base64: no part of the key may show anywhere.</summary>
    private static string KeyLine(string pem) => pem.Split('\n')[5];

    private static Dictionary<string, object?> Settings(SnowflakeFake fake, object? extra = null)
    {
        var settings = new Dictionary<string, object?>
        {
            ["account"] = Account,
            ["account_url"] = fake.BaseAddress.ToString(),
            ["user"] = User,
            ["role"] = "DOT_CATALOG",
            ["warehouse"] = "DOT_WH",
        };
        foreach (var property in extra?.GetType().GetProperties() ?? [])
        {
            settings[property.Name] = property.GetValue(extra);
        }

        return settings;
    }

    /// <summary>What the fixtures hold for a database: "schema.table" → (kind, comment, columns as name/nullable/position/comment).</summary>
    private static Dictionary<string, (string Type, string? Comment, List<(string Name, bool Nullable, int Position, string? Comment)> Columns)> Expected(string database)
    {
        static List<JsonElement> Rows(string file)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(SnowflakeFake.FixturePath(file)));
            return [.. doc.RootElement.GetProperty("data").EnumerateArray().Select(e => e.Clone())];
        }

        var columns = Rows($"{database}.COLUMNS.json");
        return Rows($"{database}.TABLES.json").ToDictionary(
            t => $"{t[0].GetString()}.{t[1].GetString()}",
            t => (t[2].GetString()!, t[3].GetString(), columns
                .Where(c => c[0].GetString() == t[0].GetString() && c[1].GetString() == t[1].GetString())
                .Select(c => (c[2].GetString()!, c[4].GetString() == "YES", int.Parse(c[3].GetString()!, System.Globalization.CultureInfo.InvariantCulture), c[10].GetString()))
                .OrderBy(c => c.Item3)
                .ToList()),
            StringComparer.Ordinal);
    }

    private static void AssertDatabase(JsonElement catalog, string database)
    {
        var schemas = catalog.GetProperty("schemas").EnumerateArray().Where(s => s.Str("database") == database).ToList();
        var tables = schemas.SelectMany(s => s.GetProperty("tables").EnumerateArray().Select(t => (Key: $"{s.Str("name")}.{t.Str("name")}", Table: t)))
            .ToDictionary(x => x.Key, x => x.Table, StringComparer.Ordinal);
        var expected = Expected(database);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), tables.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, table) in expected)
        {
            var kind = table.Type switch
            {
                "VIEW" => "view",
                "MATERIALIZED VIEW" => "materialized_view",
                "EXTERNAL TABLE" => "foreign_table",
                _ => "table",
            };
            Assert.Equal((key, kind, table.Comment), (key, tables[key].Str("kind"), tables[key].Str("description")));
            var actual = tables[key].GetProperty("columns").EnumerateArray()
                .Select(c => (c.Str("name")!, c.GetProperty("nullable").GetBoolean(), c.GetProperty("position").GetInt32(), c.Str("description")))
                .ToList();
            Assert.Equal(table.Columns, actual);
        }
    }

    [Fact]
    public async Task EveryDatabaseIsReadWithAnEncryptedKeyThroughPollingAndPartitions()
    {
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time) { AsyncStatements = { "INFORMATION_SCHEMA.COLUMNS" } }.StartAsync();
        var pem = EncryptedPem;

        var outcome = await host.SyncAsync("snowflake", Settings(fake), new { private_key = pem, private_key_passphrase = Passphrase });
        var catalog = ConnectorHost.Json(outcome.Catalog);

        AssertDatabase(catalog, "ANALYTICS");
        AssertDatabase(catalog, "Raw Data");
        Assert.DoesNotContain(catalog.GetProperty("schemas").EnumerateArray(), s => s.Str("database") == "SNOWFLAKE");
        Assert.Equal(3, outcome.SchemasCount); // ANALYTICS.PUBLIC, ANALYTICS.SALES, "Raw Data"."Landing Zone"
        Assert.Equal(6, outcome.TablesCount);
        var tables = catalog.Tables(withDatabase: true);
        var orders = tables["ANALYTICS.SALES.ORDERS"].GetProperty("columns").EnumerateArray().ToDictionary(c => c.Str("name")!, c => c.Str("data_type"));
        Assert.Equal("NUMBER(38,0)", orders["ID"]);
        Assert.Equal("NUMBER(12,2)", orders["AMOUNT"]);
        Assert.Equal("VARCHAR(16777216)", orders["NOTE"]);
        Assert.Equal("TIMESTAMP_NTZ(9)", orders["ORDERED_AT"]);
        Assert.Equal("VARIANT", tables["ANALYTICS.SALES.CUSTOMERS"].GetProperty("columns")[3].Str("data_type"));
        Assert.Equal("Orders and customers", catalog.GetProperty("schemas").EnumerateArray().Single(s => s.Str("name") == "SALES").Str("description"));

        // The quoted names went out quoted: "Raw Data", and a table whose name has a double quote.
        Assert.Contains(fake.Statements, s => s.Statement.Contains("FROM \"Raw Data\".INFORMATION_SCHEMA.COLUMNS", StringComparison.Ordinal));
        Assert.Contains("Raw Data.Landing Zone.orders \"v1\"", tables.Keys);
        Assert.All(fake.Statements, s => Assert.Equal(("DOT_WH", "DOT_CATALOG", 300), (s.Warehouse, s.Role, s.Timeout)));

        // Partitions fetched by number; a 202 polled at the handle until it answered 200.
        Assert.Contains(fake.Requests, r => r.StartsWith("GET /api/v2/statements/", StringComparison.Ordinal) && r.EndsWith("?partition=1", StringComparison.Ordinal));
        Assert.Contains(fake.Requests, r => r.StartsWith("GET /api/v2/statements/", StringComparison.Ordinal) && !r.Contains('?', StringComparison.Ordinal));
        Assert.Empty(fake.Refusals);
        Assert.DoesNotContain(Passphrase, host.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyLine(pem), host.Logs.AllText, StringComparison.Ordinal);
        Assert.Contains(host.Logs.Entries, e => e.Contains(SnowflakeFake.Fingerprint(_key), StringComparison.Ordinal));
    }

    [Fact]
    public async Task DatabasesSettingReadsOnlyThoseWithAnUnencryptedKey()
    {
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time).StartAsync();

        var outcome = await host.SyncAsync("snowflake", Settings(fake, new { databases = "analytics" }), new { private_key = _key.ExportPkcs8PrivateKeyPem() });

        AssertDatabase(ConnectorHost.Json(outcome.Catalog), "ANALYTICS");
        Assert.DoesNotContain(fake.Statements, s => s.Statement == "SHOW DATABASES");
        Assert.DoesNotContain(fake.Statements, s => s.Statement.Contains("Raw Data", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeyThatIsNotTheUsersFailsWithSnowflakesCodeAndNoSecret()
    {
        using var other = RSA.Create(2048);
        var pem = other.ExportPkcs8PrivateKeyPem();
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time).StartAsync();

        var error = await host.FailAsync("snowflake", Settings(fake), new { private_key = pem });

        Assert.StartsWith($"Snowflake at {fake.BaseAddress} answered 401 reading the list of databases (SHOW DATABASES) (390144: JWT token is invalid.",
            error, StringComparison.Ordinal);
        Assert.Contains("check the secret private_key", error, StringComparison.Ordinal);
        Assert.Equal(["bad signature"], fake.Refusals);
        host.AssertNoSecret(error, KeyLine(pem));
    }

    [Fact]
    public async Task WrongUserOrAccountIsRefusedByTheClaims()
    {
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time).StartAsync();

        var error = await host.FailAsync("snowflake", Settings(fake, new { user = "someone_else" }), new { private_key = _key.ExportPkcs8PrivateKeyPem() });

        Assert.Contains("answered 401", error, StringComparison.Ordinal);
        Assert.Equal(["wrong iss"], fake.Refusals);
    }

    [Theory]
    [InlineData("wrong passphrase", "the snowflake secret private_key_passphrase does not decrypt the secret private_key (or the key is not an RSA key).")]
    [InlineData("no passphrase", "the snowflake secret private_key is an encrypted key (ENCRYPTED PRIVATE KEY): give its passphrase as the secret private_key_passphrase.")]
    [InlineData("not a key", "the snowflake secret private_key is not a PEM RSA private key (-----BEGIN PRIVATE KEY----- PKCS#8, as rsa_key.p8 from openssl genrsa | openssl pkcs8).")]
    public async Task UnreadableKeyFailsNamingTheSecretBeforeAnythingIsSent(string kind, string error)
    {
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time).StartAsync();
        var pem = EncryptedPem;
        object secrets = kind switch
        {
            "wrong passphrase" => new { private_key = pem, private_key_passphrase = "Not-The-Passphrase-41" },
            "no passphrase" => new { private_key = pem },
            _ => new { private_key = "-----BEGIN PRIVATE KEY-----\nTm90LWEta2V5LTk5\n-----END PRIVATE KEY-----" },
        };

        var failure = await host.FailAsync("snowflake", Settings(fake), secrets);

        Assert.Equal(error, failure);
        Assert.Empty(fake.Requests);
        host.AssertNoSecret(failure, KeyLine(pem), "Not-The-Passphrase-41", "Tm90LWEta2V5LTk5");
    }

    [Fact]
    public async Task MissingDatabaseFailsWithSnowflakesMessage()
    {
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time).StartAsync();

        var error = await host.FailAsync("snowflake", Settings(fake, new { databases = "analytics, \"nope\"" }),
            new { private_key = _key.ExportPkcs8PrivateKeyPem() });

        Assert.Equal($"Snowflake at {fake.BaseAddress} could not read nope.INFORMATION_SCHEMA.SCHEMATA (002003, SQL state 02000: SQL compilation error: "
            + "Database 'nope' does not exist or not authorized.)", error);
    }

    [Fact]
    public async Task UnreachableAccountUrlFailsSayingSo()
    {
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time).StartAsync();
        var closed = fake.BaseAddress;
        await fake.DisposeAsync();

        var error = await host.FailAsync("snowflake", new { account = Account, account_url = closed.ToString(), user = User },
            new { private_key = _key.ExportPkcs8PrivateKeyPem() });

        Assert.StartsWith($"could not reach {closed}: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedirectIsNotFollowed()
    {
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time) { RedirectTo = "/elsewhere" }.StartAsync();

        var error = await host.FailAsync("snowflake", Settings(fake), new { private_key = _key.ExportPkcs8PrivateKeyPem() });

        Assert.Equal($"{fake.BaseAddress} redirects (answered 307): this server does not follow redirects; configure the final URL in the connection", error);
        Assert.Single(fake.Requests);
    }

    [Fact]
    public async Task SlowAnswerFailsAfterTimeoutSeconds()
    {
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time) { Delay = TimeSpan.FromSeconds(30) }.StartAsync();
        var pem = EncryptedPem;

        var error = await host.FailAsync("snowflake", Settings(fake, new { timeout_seconds = 1 }), new { private_key = pem, private_key_passphrase = Passphrase });

        Assert.Equal($"timed out after 1 s reading the catalogue from Snowflake at {fake.BaseAddress} (timeout_seconds)", error);
        host.AssertNoSecret(error, Passphrase, KeyLine(pem));
    }

    /// <summary>
    /// A run cancelled while a request is under way (the worker's run timeout, or the server stopping) ends at once, as
    /// cancelled. That the worker's timeout cancels it: tests/Dot.Api.Tests, ConnectorSyncTests.
    /// </summary>
    [Fact]
    public async Task RunCancelledWhileARequestIsUnderWayStopsPromptly()
    {
        using var host = new ConnectorHost();
        await using var fake = await new SnowflakeFake(_key, Account, User, host.Time) { Delay = TimeSpan.FromMinutes(5) }.StartAsync();
        var job = ConnectorHost.Job("snowflake", Settings(fake), new { private_key = _key.ExportPkcs8PrivateKeyPem() });
        using var cancel = new CancellationTokenSource();
        var run = host.Connector("snowflake").RunAsync(job, cancel.Token);
        await Eventually.TrueAsync(() => !fake.Requests.IsEmpty, TimeSpan.FromSeconds(20), "the connector never reached the fake");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("myorg-myaccount", "MYORG-MYACCOUNT")]
    [InlineData("xy12345.us-east-2.aws", "XY12345")]
    [InlineData("xy12345.global", "XY12345")]
    [InlineData("MyOrg-My_Account", "MYORG-MY_ACCOUNT")]
    public void AccountInTheClaimsIsUpperCasedWithoutRegion(string account, string claim)
        => Assert.Equal(claim, SnowflakeKeyPair.ClaimAccount(account));

    [Fact]
    public void DatabaseNamesAreUpperCasedUnlessQuotedAndQuotedSafely()
    {
        Assert.Equal(["ANALYTICS", "My \"Db\"", "raw"], SnowflakeConnector.ParseDatabases("analytics, \"My \"\"Db\"\"\", \"raw\", Analytics"));
        Assert.Equal("\"a\"\"; DROP DATABASE x; --\"", SnowflakeConnector.Quote("a\"; DROP DATABASE x; --"));
    }
}

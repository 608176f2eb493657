using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Dot.Api.Connectors;

/// <summary>
/// <c>snowflake</c>: reads schemas, tables, views and their columns from each database's <c>INFORMATION_SCHEMA</c>
/// (<c>SCHEMATA</c>, <c>TABLES</c>, <c>COLUMNS</c>) through the SQL API (<see cref="SnowflakeSqlApi"/>), authenticated
/// with key-pair authentication (<see cref="SnowflakeKeyPair"/>): the secret <c>private_key</c> (PEM PKCS#8, encrypted
/// with the secret <c>private_key_passphrase</c> or not). Settings: <c>account</c>, <c>user</c>, <c>role</c>,
/// <c>warehouse</c>, <c>databases</c> (default: every database <c>SHOW DATABASES</c> lists but <c>SNOWFLAKE</c>),
/// <c>account_url</c> and <c>timeout_seconds</c>.
/// </summary>
internal sealed partial class SnowflakeConnector(IHttpClientFactory httpClients, TimeProvider time, ILogger<SnowflakeConnector> logger)
    : ISyncConnector
{
    public const int DefaultTimeoutSeconds = 300;

    public string Type => "snowflake";

    public async Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
    {
        var settings = new ConnectorSettings(job.ConnectionType, job.Settings);
        var account = settings.Text("account", "account_identifier")
            ?? throw new SyncFailedException("the snowflake connection needs the setting account (the account identifier, such as myorg-myaccount).");
        if (!AccountPattern().IsMatch(account))
        {
            throw new SyncFailedException("the snowflake setting account must be an account identifier (letters, digits, -, _ and .), such as myorg-myaccount or xy12345.us-east-2.aws.");
        }

        var user = settings.Text("user", "username")
            ?? throw new SyncFailedException("the snowflake connection needs the setting user (the Snowflake user whose public key is set).");
        var baseUrl = BaseUrl(settings.Text("account_url"), account);
        var timeout = settings.Integer("timeout_seconds", DefaultTimeoutSeconds, 1, 3600);
        var databases = settings.Text("databases", "database") is { } list ? ParseDatabases(list) : null;
        if (!job.Secrets.TryGetValue("private_key", out var pem))
        {
            throw new SyncFailedException("the snowflake connection needs the secret private_key (the PEM private key whose public key is set on the user).");
        }

        var passphrase = job.Secrets.TryGetValue("private_key_passphrase", out var p) ? p : null;
        using var keyPair = SnowflakeKeyPair.From(pem, passphrase, account, user, time);
        var api = new SnowflakeSqlApi(httpClients.CreateClient(ConnectorsExtensions.HttpClientName), baseUrl, keyPair,
            new(settings.Text("warehouse"), settings.Text("role"), timeout));
        Log.Reading(logger, job.SyncId, job.Secrets.Scrub(api.Where), job.Secrets.Scrub(user), keyPair.Fingerprint);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeout));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var catalog = new CatalogBuilder();
        try
        {
            databases ??= await ListDatabasesAsync(api, linked.Token);
            foreach (var database in databases)
            {
                await ReadDatabaseAsync(api, database, catalog, linked.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new SyncFailedException($"timed out after {timeout} s reading the catalogue from Snowflake at {api.Where} (timeout_seconds)");
        }

        var snapshot = catalog.Build();
        Log.Read(logger, job.SyncId, databases.Count, snapshot.Schemas.Count, snapshot.TablesCount, snapshot.ColumnsCount);
        return SyncOutcome.Of(snapshot);
    }

    private static async Task<List<string>> ListDatabasesAsync(SnowflakeSqlApi api, CancellationToken ct)
    {
        var result = await api.QueryAsync("SHOW DATABASES", "the list of databases (SHOW DATABASES)", ct);
        return [.. result.Rows.Select(r => result.Get(r, "NAME")).OfType<string>()
            .Where(n => n != "SNOWFLAKE")
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];
    }

    private static async Task ReadDatabaseAsync(SnowflakeSqlApi api, string database, CatalogBuilder catalog, CancellationToken ct)
    {
        var db = Quote(database);
        var schemas = await api.QueryAsync(
            $"SELECT SCHEMA_NAME, COMMENT FROM {db}.INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME <> 'INFORMATION_SCHEMA'",
            $"{database}.INFORMATION_SCHEMA.SCHEMATA", ct);
        foreach (var row in schemas.Rows)
        {
            if (schemas.Get(row, "SCHEMA_NAME") is { } schema)
            {
                catalog.AddSchema(database, schema, schemas.Get(row, "COMMENT"));
            }
        }

        var columns = await api.QueryAsync(
            $"""
            SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, IS_NULLABLE, DATA_TYPE,
                   CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, COMMENT
            FROM {db}.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA'
            """,
            $"{database}.INFORMATION_SCHEMA.COLUMNS", ct);
        var byTable = new Dictionary<(string, string), List<CatalogColumn>>();
        foreach (var row in columns.Rows)
        {
            if (columns.Get(row, "TABLE_SCHEMA") is not { } schema || columns.Get(row, "TABLE_NAME") is not { } table
                || columns.Get(row, "COLUMN_NAME") is not { } name)
            {
                continue;
            }

            if (!byTable.TryGetValue((schema, table), out var list))
            {
                byTable[(schema, table)] = list = [];
            }

            list.Add(new CatalogColumn(
                name,
                DataType(columns.Get(row, "DATA_TYPE"), Number(columns.Get(row, "CHARACTER_MAXIMUM_LENGTH")), Number(columns.Get(row, "NUMERIC_PRECISION")),
                    Number(columns.Get(row, "NUMERIC_SCALE")), Number(columns.Get(row, "DATETIME_PRECISION"))),
                columns.Get(row, "IS_NULLABLE") switch { "YES" => true, "NO" => false, _ => null },
                (int)(Number(columns.Get(row, "ORDINAL_POSITION")) ?? 0),
                columns.Get(row, "COMMENT")));
        }

        var tables = await api.QueryAsync(
            $"SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, COMMENT FROM {db}.INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA'",
            $"{database}.INFORMATION_SCHEMA.TABLES", ct);
        foreach (var row in tables.Rows)
        {
            if (tables.Get(row, "TABLE_SCHEMA") is { } schema && tables.Get(row, "TABLE_NAME") is { } table)
            {
                catalog.AddTable(database, schema, table, Kind(tables.Get(row, "TABLE_TYPE")), tables.Get(row, "COMMENT"),
                    byTable.GetValueOrDefault((schema, table)) ?? []);
            }
        }
    }

    /// <summary>
    /// A database named in the setting: an unquoted name is upper-cased, as Snowflake resolves unquoted identifiers
    /// (<c>analytics</c> is <c>ANALYTICS</c>); a double-quoted one is taken as written (<c>"My Db"</c>).
    /// </summary>
    internal static List<string> ParseDatabases(string list)
    {
        var names = new List<string>();
        foreach (var part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var name = part.Length >= 2 && part[0] == '"' && part[^1] == '"'
                ? part[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal)
                : part.ToUpperInvariant();
            if (name.Length == 0 || name.Length > 255 || name.Any(char.IsControl))
            {
                throw new SyncFailedException("the snowflake setting databases must be a comma-separated list of database names.");
            }

            if (!names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        return names.Count > 0 ? names : throw new SyncFailedException("the snowflake setting databases names no database.");
    }

    /// <summary>A double-quoted identifier (its double quotes doubled): names come from the settings and from the source.</summary>
    internal static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>The type as Snowflake's DESCRIBE shows it: <c>VARCHAR(16777216)</c>, <c>NUMBER(38,0)</c>, <c>TIMESTAMP_NTZ(9)</c>.</summary>
    internal static string? DataType(string? type, long? length, long? precision, long? scale, long? datetimePrecision) => type switch
    {
        null => null,
        "TEXT" when length is not null => $"VARCHAR({length})",
        "TEXT" => "VARCHAR",
        "BINARY" when length is not null => $"BINARY({length})",
        "NUMBER" when precision is not null => $"NUMBER({precision},{scale ?? 0})",
        "TIME" or "TIMESTAMP_NTZ" or "TIMESTAMP_LTZ" or "TIMESTAMP_TZ" when datetimePrecision is not null => $"{type}({datetimePrecision})",
        _ => type,
    };

    private static long? Number(string? text)
        => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    internal static string Kind(string? tableType) => tableType switch
    {
        "VIEW" => CatalogKinds.View,
        "MATERIALIZED VIEW" => CatalogKinds.MaterializedView,
        "EXTERNAL TABLE" => CatalogKinds.ForeignTable,
        _ => CatalogKinds.Table, // BASE TABLE, TEMPORARY TABLE, TRANSIENT, EVENT TABLE, dynamic and Iceberg tables
    };

    private static Uri BaseUrl(string? accountUrl, string account)
    {
        var text = accountUrl ?? $"https://{account.ToLowerInvariant()}.snowflakecomputing.com";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.UserInfo))
        {
            throw new SyncFailedException("the snowflake setting account_url must be an absolute https URL (such as https://myorg-myaccount.snowflakecomputing.com), without a query.");
        }

        return new Uri(url.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")]
    private static partial Regex AccountPattern();

    private static partial class Log
    {
        [LoggerMessage(70, LogLevel.Information, "Sync {SyncId}: reading the Snowflake catalogue at {Where} as {User} (key {Fingerprint})")]
        public static partial void Reading(ILogger logger, Guid syncId, string where, string user, string fingerprint);

        [LoggerMessage(71, LogLevel.Information, "Sync {SyncId}: read {Databases} Snowflake databases: {Schemas} schemas, {Tables} tables, {Columns} columns")]
        public static partial void Read(ILogger logger, Guid syncId, int databases, int schemas, int tables, int columns);
    }
}

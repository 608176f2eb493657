using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Dot.Api.Connectors;

/// <summary>
/// <c>bigquery</c>: reads each dataset's tables, views and columns (with descriptions) of a project from the dataset's
/// <c>INFORMATION_SCHEMA</c> (<c>TABLES</c> with <c>TABLE_OPTIONS</c>, <c>COLUMNS</c> with <c>COLUMN_FIELD_PATHS</c>)
/// through the REST API v2 (<see cref="BigQueryRestApi"/>), with an OAuth token for the service-account key in the
/// secret <c>service_account_key</c> (<see cref="BigQueryServiceAccount"/>). The project is the catalogue's database,
/// each dataset a schema. Settings: <c>project</c> (default: the key's <c>project_id</c>), <c>location</c>,
/// <c>datasets</c> (default: all, from datasets.list), <c>api_url</c>, <c>timeout_seconds</c>.
/// </summary>
internal sealed partial class BigQueryConnector(IHttpClientFactory httpClients, IHttpMessageHandlerFactory handlers, TimeProvider time,
    ILogger<BigQueryConnector> logger) : ISyncConnector
{
    public const int DefaultTimeoutSeconds = 300;
    public const string DefaultApiUrl = "https://bigquery.googleapis.com";

    public string Type => "bigquery";

    public async Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
    {
        var settings = new ConnectorSettings(job.ConnectionType, job.Settings);
        if (!job.Secrets.TryGetValue("service_account_key", out var keyJson))
        {
            throw new SyncFailedException("the bigquery connection needs the secret service_account_key (the service account's JSON key file).");
        }

        var timeout = settings.Integer("timeout_seconds", DefaultTimeoutSeconds, 1, 3600);
        var apiUrl = ApiUrl(settings.Text("api_url"));
        var location = settings.Text("location");
        var key = BigQueryServiceAccount.From(keyJson, handlers, time);
        var project = settings.Text("project", "project_id") ?? key.ProjectId
            ?? throw new SyncFailedException("the bigquery connection needs the setting project (the key has no project_id).");
        if (!ProjectPattern().IsMatch(project))
        {
            throw new SyncFailedException("the bigquery setting project must be a project ID (lower-case letters, digits and hyphens, such as my-project-123).");
        }

        var datasets = settings.Text("datasets", "dataset") is { } list ? ParseDatasets(list) : null;
        var api = new BigQueryRestApi(httpClients.CreateClient(ConnectorsExtensions.HttpClientName), apiUrl, project, key.AccessTokenAsync);
        Log.Reading(logger, job.SyncId, job.Secrets.Scrub(api.Where), project, job.Secrets.Scrub(key.ClientEmail));

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeout));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var catalog = new CatalogBuilder();
        try
        {
            datasets ??= [.. (await api.ListDatasetsAsync(linked.Token)).Where(d => DatasetPattern().IsMatch(d.Id))];
            foreach (var dataset in datasets)
            {
                await ReadDatasetAsync(api, project, dataset, location ?? dataset.Location, catalog, linked.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new SyncFailedException($"timed out after {timeout} s reading the catalogue from BigQuery at {api.Where} (timeout_seconds)");
        }

        var snapshot = catalog.Build();
        Log.Read(logger, job.SyncId, datasets.Count, snapshot.TablesCount, snapshot.ColumnsCount);
        return SyncOutcome.Of(snapshot);
    }

    private static async Task ReadDatasetAsync(BigQueryRestApi api, string project, BigQueryRestApi.Dataset dataset, string? location,
        CatalogBuilder catalog, CancellationToken ct)
    {
        var schema = $"`{project}`.`{dataset.Id}`.INFORMATION_SCHEMA";
        catalog.AddSchema(project, dataset.Id);
        var columns = await api.QueryAsync(
            $"""
            SELECT c.table_name, c.column_name, c.ordinal_position, c.is_nullable, c.data_type, f.description
            FROM {schema}.COLUMNS AS c
            LEFT JOIN {schema}.COLUMN_FIELD_PATHS AS f
              ON f.table_name = c.table_name AND f.column_name = c.column_name AND f.field_path = c.column_name
            """,
            location, $"{project}.{dataset.Id}.INFORMATION_SCHEMA.COLUMNS", ct);
        var byTable = new Dictionary<string, List<CatalogColumn>>(StringComparer.Ordinal);
        foreach (var row in columns.Rows)
        {
            if (row.GetValueOrDefault("table_name") is not { } table || row.GetValueOrDefault("column_name") is not { } name)
            {
                continue;
            }

            if (!byTable.TryGetValue(table, out var list))
            {
                byTable[table] = list = [];
            }

            var position = int.TryParse(row.GetValueOrDefault("ordinal_position"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : 0;
            list.Add(new CatalogColumn(name, row.GetValueOrDefault("data_type"),
                row.GetValueOrDefault("is_nullable") switch { "YES" => true, "NO" => false, _ => null },
                position, row.GetValueOrDefault("description")));
        }

        var tables = await api.QueryAsync(
            $"""
            SELECT t.table_name, t.table_type, o.option_value AS description
            FROM {schema}.TABLES AS t
            LEFT JOIN {schema}.TABLE_OPTIONS AS o
              ON o.table_name = t.table_name AND o.option_name = 'description'
            """,
            location, $"{project}.{dataset.Id}.INFORMATION_SCHEMA.TABLES", ct);
        foreach (var row in tables.Rows)
        {
            if (row.GetValueOrDefault("table_name") is { } table)
            {
                catalog.AddTable(project, dataset.Id, table, Kind(row.GetValueOrDefault("table_type")),
                    StringLiteral(row.GetValueOrDefault("description")), byTable.GetValueOrDefault(table) ?? []);
            }
        }
    }

    internal static string Kind(string? tableType) => tableType switch
    {
        "VIEW" => CatalogKinds.View,
        "MATERIALIZED VIEW" => CatalogKinds.MaterializedView,
        "EXTERNAL" => CatalogKinds.ForeignTable,
        _ => CatalogKinds.Table, // BASE TABLE, CLONE, SNAPSHOT
    };

    /// <summary>
    /// TABLE_OPTIONS' option_value for a description is a GoogleSQL string literal (<c>"It\'s \"quoted\"\n"</c>, or
    /// single-quoted, or triple-quoted): its value, escapes decoded. Anything else is kept as written.
    /// </summary>
    internal static string? StringLiteral(string? literal)
    {
        if (literal is null || literal.Length < 2)
        {
            return literal;
        }

        var quote = literal[0];
        if ((quote != '"' && quote != '\'') || literal[^1] != quote)
        {
            return literal;
        }

        var triple = new string(quote, 3);
        var inner = literal.Length >= 6 && literal.StartsWith(triple, StringComparison.Ordinal) && literal.EndsWith(triple, StringComparison.Ordinal)
            ? literal[3..^3]
            : literal[1..^1];
        var text = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            if (inner[i] != '\\' || i + 1 == inner.Length)
            {
                text.Append(inner[i]);
                continue;
            }

            var c = inner[++i];
            switch (c)
            {
                case 'n': text.Append('\n'); break;
                case 't': text.Append('\t'); break;
                case 'r': text.Append('\r'); break;
                case 'a': text.Append('\a'); break;
                case 'b': text.Append('\b'); break;
                case 'f': text.Append('\f'); break;
                case 'v': text.Append('\v'); break;
                case 'u' when Hex(inner, i + 1, 4) is { } u:
                    text.Append(char.ConvertFromUtf32(u));
                    i += 4;
                    break;
                case 'U' when Hex(inner, i + 1, 8) is { } u && u <= 0x10FFFF:
                    text.Append(char.ConvertFromUtf32(u));
                    i += 8;
                    break;
                case 'x' or 'X' when Hex(inner, i + 1, 2) is { } x:
                    text.Append((char)x);
                    i += 2;
                    break;
                default: text.Append(c); break; // \\ \" \' \` \? and anything unknown: the character itself
            }
        }

        return text.ToString();
    }

    private static int? Hex(string text, int start, int length)
        => start + length <= text.Length && int.TryParse(text.AsSpan(start, length), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var n)
            && (n < 0xD800 || n > 0xDFFF) ? n : null;

    internal static List<BigQueryRestApi.Dataset> ParseDatasets(string list)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        if (names.Count == 0 || !names.All(DatasetPattern().IsMatch))
        {
            throw new SyncFailedException("the bigquery setting datasets must be a comma-separated list of dataset IDs (letters, digits and underscores).");
        }

        return [.. names.Select(n => new BigQueryRestApi.Dataset(n, null))];
    }

    private static Uri ApiUrl(string? text)
    {
        if (!Uri.TryCreate(text ?? DefaultApiUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.UserInfo))
        {
            throw new SyncFailedException($"the bigquery setting api_url must be an absolute http or https URL without a query, such as {DefaultApiUrl}.");
        }

        return new Uri(url.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
    }

    /// <summary>A project ID (6–30 lower-case letters, digits, hyphens), optionally domain-scoped (<c>example.com:project</c>).</summary>
    [GeneratedRegex("^(?:[a-z0-9][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,61}[a-z0-9]$")]
    private static partial Regex ProjectPattern();

    /// <summary>A dataset ID: letters, digits and underscores, at most 1,024.</summary>
    [GeneratedRegex("^[A-Za-z0-9_]{1,1024}$")]
    private static partial Regex DatasetPattern();

    private static partial class Log
    {
        [LoggerMessage(74, LogLevel.Information, "Sync {SyncId}: reading the BigQuery catalogue of project {Project} at {Where} as {ServiceAccount}")]
        public static partial void Reading(ILogger logger, Guid syncId, string where, string project, string serviceAccount);

        [LoggerMessage(75, LogLevel.Information, "Sync {SyncId}: read {Datasets} BigQuery datasets: {Tables} tables, {Columns} columns")]
        public static partial void Read(ILogger logger, Guid syncId, int datasets, int tables, int columns);
    }
}

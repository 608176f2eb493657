using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Dot.Api.Connectors;

/// <summary>
/// <c>databricks</c>: reads catalogs, schemas and tables with their columns from a workspace's Unity Catalog REST API
/// (<c>/api/2.1/unity-catalog/…</c>) at the setting <c>host</c>, with a personal access token (secret <c>token</c>)
/// or OAuth machine-to-machine (setting <c>client_id</c>, secret <c>client_secret</c>: a service principal's token from
/// <c>{host}/oidc/v1/token</c>). A catalog is shown as the schema's <c>database</c>.
/// </summary>
internal sealed partial class DatabricksConnector(IHttpClientFactory httpClients, ILogger<DatabricksConnector> logger) : ISyncConnector
{
    public const int DefaultTimeoutSeconds = 120;

    /// <summary>Tables per page (the API's documented maximum for a listing with columns is 50).</summary>
    public const int TablesPageSize = 50;

    /// <summary>Pages of a listing at most, against an API that never stops answering a next_page_token.</summary>
    private const int MaxPages = 100_000;

    public string Type => "databricks";

    public async Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
    {
        var settings = new ConnectorSettings(job.ConnectionType, job.Settings);
        var hostText = settings.Text("host")
            ?? throw new SyncFailedException("the databricks setting host is required: the workspace URL, such as https://dbc-a1b2345c-d6e7.cloud.databricks.com");
        var host = ConnectorHttp.BaseUrl(hostText)
            ?? throw new SyncFailedException("the databricks setting host must be the workspace URL (https://…), without user info or a query string.");
        var timeout = settings.Integer("timeout_seconds", DefaultTimeoutSeconds, 1, 3600);
        var only = settings.Text("catalogs")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToHashSet(StringComparer.OrdinalIgnoreCase); // Unity Catalog names are case-insensitive
        var auth = Authentication(settings, job);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeout));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var where = ConnectorHttp.Describe(host);
        Log.Reading(logger, job.SyncId, job.Secrets.Scrub(where), auth.ToString());
        try
        {
            var api = new Api(httpClients.CreateClient(ConnectorsExtensions.HttpClientName), host, auth);
            await api.AuthenticateAsync(linked.Token);
            var catalog = new CatalogBuilder();
            var catalogs = 0;
            await foreach (var c in api.ListAsync("catalogs", [], "catalogs", linked.Token))
            {
                var name = ConnectorHttp.String(c, "name");
                if (name is null || (only is not null && !only.Contains(name)))
                {
                    continue;
                }

                catalogs++;
                await foreach (var s in api.ListAsync("schemas", [("catalog_name", name)], "schemas", linked.Token))
                {
                    var schema = ConnectorHttp.String(s, "name");
                    if (schema is null || schema == "information_schema")
                    {
                        continue;
                    }

                    catalog.AddSchema(name, schema, ConnectorHttp.String(s, "comment"));
                    await foreach (var t in api.ListAsync("tables",
                        [("catalog_name", name), ("schema_name", schema), ("max_results", TablesPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture))],
                        "tables", linked.Token))
                    {
                        if (ConnectorHttp.String(t, "name") is { } table)
                        {
                            catalog.AddTable(name, schema, table, Kind(ConnectorHttp.String(t, "table_type")), ConnectorHttp.String(t, "comment"), Columns(t));
                        }
                    }
                }
            }

            if (only is not null && catalogs < only.Count)
            {
                throw new SyncFailedException($"the databricks setting catalogs names {only.Count} catalogs, but {where} shows {catalogs} of them to these "
                    + "credentials: check the names, and that the principal has USE CATALOG on each (BROWSE, or ownership)");
            }

            var snapshot = catalog.Build();
            Log.Read(logger, job.SyncId, catalogs, snapshot.Schemas.Count, snapshot.TablesCount, snapshot.ColumnsCount);
            return SyncOutcome.Of(snapshot);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new SyncFailedException($"timed out after {timeout} s reading the Unity Catalog of {where} (timeout_seconds)");
        }
    }

    /// <summary>The token to send, or the OAuth client to get one with: exactly one of the secret token, or client_id with client_secret.</summary>
    private static Credentials Authentication(ConnectorSettings settings, SyncJob job)
    {
        var clientId = settings.Text("client_id");
        var hasToken = job.Secrets.TryGetValue("token", out var token) && token.Length > 0;
        var hasSecret = job.Secrets.TryGetValue("client_secret", out var secret) && secret.Length > 0;
        if (hasToken && (clientId is not null || hasSecret))
        {
            throw new SyncFailedException("the databricks connection has both the secret token and OAuth settings (client_id, client_secret): give one of them.");
        }

        if (hasToken)
        {
            return new Credentials(token, null, null);
        }

        if (clientId is null || !hasSecret)
        {
            throw new SyncFailedException("the databricks connection needs the secret token (a personal access token), or the setting client_id "
                + "with the secret client_secret (a service principal's OAuth secret).");
        }

        return new Credentials(null, clientId, secret);
    }

    internal static string Kind(string? tableType) => tableType switch
    {
        "VIEW" or "METRIC_VIEW" => CatalogKinds.View,
        "MATERIALIZED_VIEW" => CatalogKinds.MaterializedView,
        "FOREIGN" => CatalogKinds.ForeignTable,
        _ => CatalogKinds.Table, // MANAGED, EXTERNAL, STREAMING_TABLE, MANAGED_SHALLOW_CLONE, EXTERNAL_SHALLOW_CLONE
    };

    /// <summary>A table's <c>columns</c>: <c>type_text</c> as the data type, <c>position</c> (0-based in the API) plus one.</summary>
    private static List<CatalogColumn> Columns(JsonElement table)
    {
        var columns = new List<CatalogColumn>();
        if (!table.TryGetProperty("columns", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return columns;
        }

        var index = 0;
        foreach (var c in list.EnumerateArray())
        {
            index++;
            if (ConnectorHttp.String(c, "name") is not { } name)
            {
                continue;
            }

            var position = c.TryGetProperty("position", out var p) && p.TryGetInt32(out var at) && at is >= 0 and < int.MaxValue ? at + 1 : index;
            bool? nullable = c.TryGetProperty("nullable", out var n) && n.ValueKind is JsonValueKind.True or JsonValueKind.False ? n.GetBoolean() : null;
            columns.Add(new CatalogColumn(name, ConnectorHttp.String(c, "type_text") ?? ConnectorHttp.String(c, "type_name"), nullable, position,
                ConnectorHttp.String(c, "comment")));
        }

        return columns;
    }

    /// <summary>What to authenticate with; prints as the kind only, never the token or the secret.</summary>
    private sealed record Credentials(string? Token, string? ClientId, string? ClientSecret)
    {
        public override string ToString() => ClientId is null ? "personal access token" : "OAuth M2M";
    }

    /// <summary>The workspace's REST API: the OAuth token request and the paged Unity Catalog listings.</summary>
    private sealed class Api(HttpClient client, Uri host, Credentials credentials)
    {
        private string _bearer = credentials.Token ?? "";

        private string Root => host.AbsoluteUri.TrimEnd('/');

        /// <summary>OAuth M2M: POST {host}/oidc/v1/token (client credentials, HTTP Basic client authentication, scope all-apis).</summary>
        public async Task AuthenticateAsync(CancellationToken ct)
        {
            if (credentials.ClientId is null)
            {
                return;
            }

            var url = new Uri(Root + "/oidc/v1/token");
            var where = ConnectorHttp.Describe(url);
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("scope", "all-apis")]),
            };
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(
                Uri.EscapeDataString(credentials.ClientId) + ":" + Uri.EscapeDataString(credentials.ClientSecret!)));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
            request.Headers.Accept.ParseAdd("application/json");
            using var answer = await ConnectorHttp.SendAsync(client, request, where,
                body => ConnectorHttp.String(body, "error"),
                (status, error) => $"{where} answered {status}{(error is null ? "" : $" ({error})")}"
                    + (status is 400 or 401 or 403 ? ": check the setting client_id and the secret client_secret (a service principal's OAuth secret of this workspace's account)" : ""),
                ct);
            _bearer = (answer is null ? null : ConnectorHttp.String(answer.RootElement, "access_token"))
                ?? throw new SyncFailedException($"{where} answered without an access_token");
        }

        /// <summary>Every item of a Unity Catalog listing, following next_page_token until the API gives none.</summary>
        public async IAsyncEnumerable<JsonElement> ListAsync(string resource, (string Name, string Value)[] query, string property,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            string? pageToken = null;
            for (var page = 0; page < MaxPages; page++)
            {
                var parameters = query.ToList();
                if (!parameters.Any(p => p.Name == "max_results"))
                {
                    parameters.Add(("max_results", "0")); // the paginated form, with the server's page length
                }

                parameters.Add(("include_browse", "true")); // what the principal may only BROWSE (metadata) too

                if (pageToken is not null)
                {
                    parameters.Add(("page_token", pageToken));
                }

                var url = new Uri($"{Root}/api/2.1/unity-catalog/{resource}?"
                    + string.Join('&', parameters.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}")));
                var where = ConnectorHttp.Describe(url);
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _bearer);
                request.Headers.Accept.ParseAdd("application/json");
                using var answer = await ConnectorHttp.SendAsync(client, request, where, ErrorMessage, Failure(where, query), ct);
                if (answer is null)
                {
                    yield break;
                }

                if (answer.RootElement.TryGetProperty(property, out var items) && items.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in items.EnumerateArray())
                    {
                        yield return item.Clone();
                    }
                }

                pageToken = ConnectorHttp.String(answer.RootElement, "next_page_token");
                if (string.IsNullOrEmpty(pageToken))
                {
                    yield break;
                }
            }

            throw new SyncFailedException($"{Root}/api/2.1/unity-catalog/{resource} gave more than {MaxPages} pages");
        }

        /// <summary>Databricks' error body: <c>{"error_code": "PERMISSION_DENIED", "message": "…"}</c>.</summary>
        private static string? ErrorMessage(JsonElement body)
            => ConnectorHttp.String(body, "error_code") is { } code
                ? ConnectorHttp.String(body, "message") is { } message ? $"{code}: {message}" : code
                : null;

        private Func<int, string?, string> Failure(string where, (string Name, string Value)[] query) => (status, message) =>
        {
            var what = query.Length == 0 ? "" : " for " + string.Join(", ", query.Where(q => q.Name != "max_results").Select(q => $"{q.Name} {q.Value}"));
            var text = $"{where}{what} answered {status}{(message is null ? "" : $" ({message})")}";
            return status switch
            {
                401 => text + (credentials.ClientId is null
                    ? ": check the secret token (a personal access token of this workspace that has not expired)"
                    : ": check the setting client_id and the secret client_secret"),
                403 => text + ": the principal lacks a privilege: it needs USE CATALOG and USE SCHEMA (or BROWSE) on what it reads",
                _ => text,
            };
        };
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Sync {SyncId}: reading the Unity Catalog of {Host} with {Authentication}")]
        public static partial void Reading(ILogger logger, Guid syncId, string host, string authentication);

        [LoggerMessage(2, LogLevel.Information, "Sync {SyncId}: {Catalogs} catalogs, {Schemas} schemas, {Tables} tables, {Columns} columns")]
        public static partial void Read(ILogger logger, Guid syncId, int catalogs, int schemas, int tables, int columns);
    }
}

using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Dot.Api.Validation;
using Microsoft.Extensions.Logging;

namespace Dot.Api.Connectors;

/// <summary>
/// <c>looker</c>: through the Looker API 4.0 at the setting <c>base_url</c> (login with the setting <c>client_id</c> and
/// the secret <c>client_secret</c>, an API key of a Looker user), reads the LookML models, their explores and the
/// explores' dimensions and measures into the catalogue (project → database, model → schema, explore → table of kind
/// <see cref="CatalogKinds.Explore"/>, field → column), and the dashboards and Looks as external assets, which the
/// worker imports when the run succeeds (<see cref="SyncOutcome.ExternalAssets"/>). Logs out at the end.
/// </summary>
internal sealed partial class LookerConnector(IHttpClientFactory httpClients, ILogger<LookerConnector> logger) : ISyncConnector
{
    public const int DefaultTimeoutSeconds = 120;

    /// <summary>Items per page of the listings that take limit and offset (the setting page_size, 1–1000).</summary>
    public const int DefaultPageSize = 100;

    private const int MaxPages = 100_000;

    private const string ExploreFields = "name,label,description,hidden,"
        + "fields(dimensions(name,type,label,description,hidden),measures(name,type,label,description,hidden))";

    private const string ContentFields = "id,title,description,folder(name),view_count,last_accessed_at";

    public string Type => "looker";

    public async Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
    {
        var settings = new ConnectorSettings(job.ConnectionType, job.Settings);
        var baseText = settings.Text("base_url")
            ?? throw new SyncFailedException("the looker setting base_url is required: your instance's API URL, such as https://company.looker.com or https://company.looker.com:19999");
        var baseUrl = ConnectorHttp.BaseUrl(StripApiPath(baseText))
            ?? throw new SyncFailedException("the looker setting base_url must be an http or https URL, without user info or a query string.");
        var webUrl = settings.Text("web_url") is { } web
            ? ConnectorHttp.BaseUrl(web) ?? throw new SyncFailedException("the looker setting web_url must be an http or https URL, without user info or a query string.")
            : DefaultWebUrl(baseUrl);
        var clientId = settings.Text("client_id")
            ?? throw new SyncFailedException("the looker setting client_id is required (the public part of a Looker API key).");
        if (!job.Secrets.TryGetValue("client_secret", out var clientSecret) || clientSecret.Length == 0)
        {
            throw new SyncFailedException("the looker connection needs the secret client_secret (the private part of the Looker API key of client_id).");
        }

        var timeout = settings.Integer("timeout_seconds", DefaultTimeoutSeconds, 1, 3600);
        var pageSize = settings.Integer("page_size", DefaultPageSize, 1, 1000);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeout));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var where = ConnectorHttp.Describe(baseUrl);
        Log.Reading(logger, job.SyncId, job.Secrets.Scrub(where));
        var api = new Api(httpClients.CreateClient(ConnectorsExtensions.HttpClientName), baseUrl, pageSize);
        try
        {
            await api.LoginAsync(clientId, clientSecret, linked.Token);
            try
            {
                var catalog = await ReadCatalogAsync(api, linked.Token);
                var assets = await ReadAssetsAsync(api, job.ConnectionId, webUrl, linked.Token);
                var snapshot = catalog.Build();
                Log.Read(logger, job.SyncId, snapshot.Schemas.Count, snapshot.TablesCount, snapshot.ColumnsCount, assets.Count);
                return SyncOutcome.Of(snapshot) with { ExternalAssets = assets };
            }
            finally
            {
                await LogoutAsync(api, job);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new SyncFailedException($"timed out after {timeout} s reading {where} (timeout_seconds)");
        }
    }

    /// <summary>Every model (GET /lookml_models, paged) and each of its explores that is not hidden (GET …/explores/{name}).</summary>
    private static async Task<CatalogBuilder> ReadCatalogAsync(Api api, CancellationToken ct)
    {
        var catalog = new CatalogBuilder();
        await foreach (var model in api.PagesAsync("lookml_models", "name,label,project_name,explores(name,hidden)", ct))
        {
            if (ConnectorHttp.String(model, "name") is not { } modelName)
            {
                continue;
            }

            var project = ConnectorHttp.String(model, "project_name");
            catalog.AddSchema(project, modelName, ConnectorHttp.String(model, "label"));
            if (!model.TryGetProperty("explores", out var explores) || explores.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var nav in explores.EnumerateArray())
            {
                if (ConnectorHttp.String(nav, "name") is not { } exploreName || IsTrue(nav, "hidden"))
                {
                    continue;
                }

                using var explore = await api.GetAsync(
                    $"lookml_models/{Uri.EscapeDataString(modelName)}/explores/{Uri.EscapeDataString(exploreName)}", [("fields", ExploreFields)], ct);
                if (explore is null || IsTrue(explore.RootElement, "hidden"))
                {
                    continue;
                }

                var root = explore.RootElement;
                catalog.AddTable(project, modelName, exploreName, CatalogKinds.Explore,
                    ConnectorHttp.String(root, "description") ?? ConnectorHttp.String(root, "label"), Fields(root));
            }
        }

        return catalog;
    }

    /// <summary>Dimensions, then measures, in declaration order; hidden ones left out. Data type: the LookML type.</summary>
    private static List<CatalogColumn> Fields(JsonElement explore)
    {
        var columns = new List<CatalogColumn>();
        if (!explore.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Object)
        {
            return columns;
        }

        foreach (var group in (string[])["dimensions", "measures"])
        {
            if (!fields.TryGetProperty(group, out var list) || list.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var field in list.EnumerateArray())
            {
                if (ConnectorHttp.String(field, "name") is not { } name || IsTrue(field, "hidden"))
                {
                    continue;
                }

                columns.Add(new CatalogColumn(name, ConnectorHttp.String(field, "type"), null, columns.Count + 1,
                    ConnectorHttp.String(field, "description") ?? ConnectorHttp.String(field, "label")));
            }
        }

        return columns;
    }

    /// <summary>
    /// Dashboards (GET /dashboards/search) and Looks (GET /looks/search) not in the trash (deleted=false), paged, as external assets with the ids
    /// <c>looker/{connection}/dashboards/{id}</c> and <c>looker/{connection}/looks/{id}</c>, each checked as the import
    /// endpoint checks a client's (<see cref="ExternalAssetImport.Validate"/>).
    /// </summary>
    private static async Task<List<ExternalAssetImport>> ReadAssetsAsync(Api api, string connectionId, Uri webUrl, CancellationToken ct)
    {
        var assets = new List<ExternalAssetImport>();
        var web = webUrl.AbsoluteUri.TrimEnd('/');
        foreach (var (resource, subtype) in ((string, string)[])[("dashboards", "dashboard"), ("looks", "look")])
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var item in api.PagesAsync($"{resource}/search", ContentFields, ct, ("deleted", "false")))
            {
                var id = item.TryGetProperty("id", out var raw) && raw.ValueKind is JsonValueKind.String or JsonValueKind.Number
                    ? raw.ValueKind == JsonValueKind.String ? raw.GetString() : raw.GetRawText()
                    : null;
                if (string.IsNullOrWhiteSpace(id) || !seen.Add(id))
                {
                    continue;
                }

                var folder = item.TryGetProperty("folder", out var f) ? ConnectorHttp.String(f, "name") : null;
                long? views = item.TryGetProperty("view_count", out var v) && v.TryGetInt64(out var count) && count >= 0 ? count : null;
                DateTime? accessed = ConnectorHttp.String(item, "last_accessed_at") is { } at
                    && DateTime.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var when)
                    ? when
                    : null;
                var input = new ExternalAssetInput(
                    $"looker/{connectionId}/{resource}/{id}",
                    subtype,
                    Clip(folder, ExternalAssetImport.MaxFolderLength),
                    Clip(ConnectorHttp.String(item, "title") is { Length: > 0 } title ? title : $"{subtype} {id}", ExternalAssetImport.MaxNameLength),
                    Clip(ConnectorHttp.String(item, "description"), ExternalAssetImport.MaxDescriptionLength),
                    $"{web}/{resource}/{Uri.EscapeDataString(id)}",
                    true,
                    views,
                    accessed,
                    null);
                var errors = new FieldErrors();
                var asset = ExternalAssetImport.Validate(input, errors)
                    ?? throw new SyncFailedException($"the Looker {subtype} {Clip(id, 64)} cannot be imported as an external asset: {errors}");
                assets.Add(asset);
            }
        }

        return assets;
    }

    /// <summary>DELETE /logout, so the access token dies with the run: at most 5 s, and a failure only logged.</summary>
    private async Task LogoutAsync(Api api, SyncJob job)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await api.LogoutAsync(limit.Token);
        }
        catch (Exception ex) when (ex is SyncFailedException or OperationCanceledException)
        {
            Log.LogoutFailed(logger, job.SyncId, job.Secrets.Scrub(ex is SyncFailedException ? ex.Message : "no answer within 5 s"));
        }
    }

    /// <summary>"https://x.looker.com:19999/api/4.0/" → "https://x.looker.com:19999": the setting may name the API root.</summary>
    private static string StripApiPath(string url)
    {
        var trimmed = url.Trim().TrimEnd('/');
        foreach (var suffix in (string[])["/api/4.0", "/api"])
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return trimmed[..^suffix.Length];
            }
        }

        return trimmed;
    }

    /// <summary>The web UI's root for links: base_url, without the API-only port 19999.</summary>
    private static Uri DefaultWebUrl(Uri baseUrl)
        => baseUrl.Port == 19999 ? new UriBuilder(baseUrl) { Port = -1 }.Uri : baseUrl;

    private static bool IsTrue(JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private static string? Clip(string? text, int max) => text is null || text.Length <= max ? text : text[..(max - 1)] + "…";

    /// <summary>The Looker API 4.0: login, the paged listings, one explore, logout; errors as status and the body's <c>message</c>.</summary>
    private sealed class Api(HttpClient client, Uri baseUrl, int pageSize)
    {
        private string? _token;

        private string Root => baseUrl.AbsoluteUri.TrimEnd('/') + "/api/4.0";

        /// <summary>POST /login with client_id and client_secret in a form body (never the query): an access token.</summary>
        public async Task LoginAsync(string clientId, string clientSecret, CancellationToken ct)
        {
            var url = new Uri(Root + "/login");
            var where = ConnectorHttp.Describe(url);
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new FormUrlEncodedContent([new("client_id", clientId), new("client_secret", clientSecret)]),
            };
            request.Headers.Accept.ParseAdd("application/json");
            using var answer = await ConnectorHttp.SendAsync(client, request, where, Message,
                (status, message) => $"{where} answered {status}{Quote(message)}"
                    + (status is 400 or 401 or 403 or 404 ? ": check the setting client_id and the secret client_secret (a Looker API key)" : ""),
                ct);
            _token = (answer is null ? null : ConnectorHttp.String(answer.RootElement, "access_token"))
                ?? throw new SyncFailedException($"{where} answered without an access_token");
        }

        public async Task LogoutAsync(CancellationToken ct)
        {
            if (_token is null)
            {
                return;
            }

            var url = new Uri(Root + "/logout");
            using var request = Request(HttpMethod.Delete, url);
            using var answer = await ConnectorHttp.SendAsync(client, request, ConnectorHttp.Describe(url), Message,
                (status, message) => $"{ConnectorHttp.Describe(url)} answered {status}{Quote(message)}", ct);
            _token = null;
        }

        public async Task<JsonDocument?> GetAsync(string path, (string Name, string Value)[] query, CancellationToken ct)
        {
            var url = new Uri($"{Root}/{path}?" + string.Join('&', query.Select(q => $"{q.Name}={Uri.EscapeDataString(q.Value)}")));
            var where = ConnectorHttp.Describe(url);
            using var request = Request(HttpMethod.Get, url);
            return await ConnectorHttp.SendAsync(client, request, where, Message,
                (status, message) => $"{where} answered {status}{Quote(message)}" + status switch
                {
                    401 => ": the access token from login was refused; check the setting client_id and the secret client_secret",
                    403 => ": the API key's user lacks a permission (access_data on the model for models and explores; see_user_dashboards and see_looks for content)",
                    _ => "",
                },
                ct);
        }

        /// <summary>Every item of a listing that pages with limit and offset: the next page until one is shorter than the limit.</summary>
        public async IAsyncEnumerable<JsonElement> PagesAsync(string path, string fields,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct, params (string Name, string Value)[] filters)
        {
            for (var page = 0; page < MaxPages; page++)
            {
                var offset = ((long)page * pageSize).ToString(CultureInfo.InvariantCulture);
                using var answer = await GetAsync(path, [.. filters, ("fields", fields), ("limit", pageSize.ToString(CultureInfo.InvariantCulture)), ("offset", offset)], ct);
                if (answer is null || answer.RootElement.ValueKind != JsonValueKind.Array)
                {
                    throw new SyncFailedException($"{Root}/{path} answered something other than a JSON array");
                }

                var count = 0;
                foreach (var item in answer.RootElement.EnumerateArray())
                {
                    count++;
                    yield return item.Clone();
                }

                if (count < pageSize)
                {
                    yield break;
                }
            }

            throw new SyncFailedException($"{Root}/{path} gave more than {MaxPages} pages");
        }

        /// <summary>Looker's error body: <c>{"message": "…", "documentation_url": "…"}</c>.</summary>
        private static string? Message(JsonElement body) => ConnectorHttp.String(body, "message");

        private static string Quote(string? message) => message is null ? "" : $" ({message})";

        /// <summary>A request with <c>Authorization: token …</c>, the scheme the login documentation prescribes.</summary>
        private HttpRequestMessage Request(HttpMethod method, Uri url)
        {
            var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("token", _token);
            request.Headers.Accept.ParseAdd("application/json");
            return request;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Sync {SyncId}: reading LookML models and content from {BaseUrl}")]
        public static partial void Reading(ILogger logger, Guid syncId, string baseUrl);

        [LoggerMessage(2, LogLevel.Information, "Sync {SyncId}: {Models} models, {Explores} explores, {Fields} fields; {Assets} dashboards and Looks")]
        public static partial void Read(ILogger logger, Guid syncId, int models, int explores, int fields, int assets);

        [LoggerMessage(3, LogLevel.Warning, "Sync {SyncId}: logging out of Looker failed ({Reason}); the access token expires on its own")]
        public static partial void LogoutFailed(ILogger logger, Guid syncId, string reason);
    }
}

using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Dot.Api.Connectors;

/// <summary>
/// BigQuery's REST API v2 with an OAuth access token: <c>datasets.list</c> (<c>GET …/projects/{p}/datasets</c>, paged by
/// <c>pageToken</c>/<c>nextPageToken</c>), <c>jobs.query</c> (<c>POST …/projects/{p}/queries</c>) and
/// <c>jobs.getQueryResults</c> (<c>GET …/projects/{p}/queries/{jobId}</c>) for further pages and while
/// <c>jobComplete</c> is false. Errors report the status and the documented <c>error.status</c>/<c>error.message</c>.
/// </summary>
internal sealed class BigQueryRestApi(HttpClient client, Uri apiUrl, string project, Func<CancellationToken, Task<string>> token)
{
    /// <summary>Rows asked for a page; BigQuery may send fewer (it caps a page at 10 MB).</summary>
    public const int PageRows = 10000;

    /// <summary>How long one jobs.query or getQueryResults call may wait for the job before answering jobComplete false.</summary>
    public static int WaitMilliseconds { get; set; } = 10000;

    /// <summary>A dataset's id and location, as datasets.list gives them.</summary>
    public sealed record Dataset(string Id, string? Location);

    /// <summary>The rows of a result, each a name → value map (null for NULL), names as the schema's fields.</summary>
    public sealed record Result(IReadOnlyList<IReadOnlyDictionary<string, string?>> Rows);

    public string Where => DbtConnector.Describe(apiUrl);

    private string ProjectPath => $"bigquery/v2/projects/{Uri.EscapeDataString(project)}";

    public async Task<List<Dataset>> ListDatasetsAsync(CancellationToken ct)
    {
        var datasets = new List<Dataset>();
        string? pageToken = null;
        do
        {
            var query = "?maxResults=1000" + (pageToken is null ? "" : $"&pageToken={Uri.EscapeDataString(pageToken)}");
            using var answer = await SendAsync(HttpMethod.Get, $"{ProjectPath}/datasets{query}", null, "the datasets (datasets.list)", ct);
            var root = answer.RootElement;
            if (root.TryGetProperty("datasets", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var dataset in list.EnumerateArray())
                {
                    var id = dataset.TryGetProperty("datasetReference", out var reference) ? ConnectorHttp.String(reference, "datasetId") : null;
                    if (id is not null)
                    {
                        datasets.Add(new Dataset(id, ConnectorHttp.String(dataset, "location")));
                    }
                }
            }

            pageToken = ConnectorHttp.String(root, "nextPageToken");
        }
        while (!string.IsNullOrEmpty(pageToken));

        return datasets;
    }

    /// <summary>Runs a GoogleSQL query and reads every page of its result.</summary>
    public async Task<Result> QueryAsync(string sql, string? location, string what, CancellationToken ct)
    {
        var body = new Dictionary<string, object>
        {
            ["query"] = sql,
            ["useLegacySql"] = false,
            ["maxResults"] = PageRows,
            ["timeoutMs"] = WaitMilliseconds,
        };
        if (location is not null)
        {
            body["location"] = location;
        }

        var rows = new List<IReadOnlyDictionary<string, string?>>();
        var answer = await SendAsync(HttpMethod.Post, $"{ProjectPath}/queries", JsonContent.Create(body), what, ct);
        try
        {
            while (true)
            {
                var root = answer.RootElement;
                var job = root.TryGetProperty("jobReference", out var reference) ? ConnectorHttp.String(reference, "jobId") : null;
                var jobLocation = ConnectorHttp.String(reference, "location") ?? location;
                var complete = root.TryGetProperty("jobComplete", out var c) && c.ValueKind == JsonValueKind.True;
                string? pageToken = null;
                if (complete)
                {
                    try
                    {
                        AddRows(root, rows);
                    }
                    catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
                    {
                        // Rows without the documented schema.fields, or a row that is not {"f": [{"v": …}]}.
                        throw new SyncFailedException($"BigQuery at {Where} answered reading {what} with a result this server cannot read", ex);
                    }

                    pageToken = ConnectorHttp.String(root, "pageToken");
                    if (string.IsNullOrEmpty(pageToken))
                    {
                        return new Result(rows);
                    }
                }

                if (job is null)
                {
                    throw new SyncFailedException($"BigQuery at {Where} answered without a jobReference reading {what}");
                }

                var query = $"?maxResults={PageRows}&timeoutMs={WaitMilliseconds}"
                    + (jobLocation is null ? "" : $"&location={Uri.EscapeDataString(jobLocation)}")
                    + (pageToken is null ? "" : $"&pageToken={Uri.EscapeDataString(pageToken)}");
                var next = await SendAsync(HttpMethod.Get, $"{ProjectPath}/queries/{Uri.EscapeDataString(job)}{query}", null, what, ct);
                answer.Dispose();
                answer = next;
            }
        }
        finally
        {
            answer.Dispose();
        }
    }

    private static void AddRows(JsonElement root, List<IReadOnlyDictionary<string, string?>> rows)
    {
        if (!root.TryGetProperty("rows", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var names = root.GetProperty("schema").GetProperty("fields").EnumerateArray().Select(f => ConnectorHttp.String(f, "name") ?? "").ToList();
        foreach (var row in list.EnumerateArray())
        {
            var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            var i = 0;
            foreach (var cell in row.GetProperty("f").EnumerateArray())
            {
                if (i < names.Count && cell.TryGetProperty("v", out var v))
                {
                    values[names[i]] = v.ValueKind switch
                    {
                        JsonValueKind.String => v.GetString(),
                        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
                        _ => null,
                    };
                }

                i++;
            }

            rows.Add(values);
        }
    }

    private async Task<JsonDocument> SendAsync(HttpMethod method, string path, HttpContent? content, string what, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(apiUrl, path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await token(ct));
        var answer = await ConnectorHttp.ExchangeAsync(client, request, Where, ct);
        if (answer.Status == 200 && answer.Body is { } body)
        {
            return body;
        }

        using (answer)
        {
            throw Failure(answer, what);
        }
    }

    /// <summary>The status, and the documented error body's <c>error.status</c> and <c>error.message</c>.</summary>
    private SyncFailedException Failure(ConnectorHttp.Answer answer, string what)
    {
        var error = answer.Body?.RootElement is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("error", out var e) ? e : default;
        var status = ConnectorHttp.String(error, "status");
        var message = ConnectorHttp.Bounded(ConnectorHttp.String(error, "message"));
        var said = message is null ? "" : $" ({(status is null ? "" : status + ": ")}{message})";
        var hint = answer.Status switch
        {
            401 => ": check the secret service_account_key",
            403 => ": the service account needs roles/bigquery.metadataViewer on the datasets and roles/bigquery.jobUser on the project",
            404 => ": check the settings project, datasets and location",
            _ => "",
        };
        return new SyncFailedException(string.Create(CultureInfo.InvariantCulture,
            $"BigQuery at {Where} answered {answer.Status} reading {what}{said}{hint}"));
    }
}

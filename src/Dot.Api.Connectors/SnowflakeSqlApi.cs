using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Dot.Api.Connectors;

/// <summary>
/// Snowflake's SQL API (<c>POST /api/v2/statements</c>): one statement a request, authenticated with a key-pair JWT
/// (<c>Authorization: Bearer</c>, <c>X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT</c>). A 200 carries the result's
/// first partition; the others are fetched with <c>GET /api/v2/statements/{handle}?partition=N</c>. A 202 (still
/// running) is polled at <c>GET /api/v2/statements/{handle}</c>, a URL this server builds from the handle (it does not
/// follow the answer's <c>statementStatusUrl</c> elsewhere). Errors report the status and the documented
/// <c>code</c>/<c>message</c> of the body, never the body itself.
/// </summary>
internal sealed class SnowflakeSqlApi(HttpClient client, Uri baseUrl, SnowflakeKeyPair keyPair, SnowflakeSqlApi.Context context)
{
    /// <summary>The session context every statement runs in, and the statement timeout in seconds.</summary>
    public sealed record Context(string? Warehouse, string? Role, int TimeoutSeconds);

    /// <summary>The columns of a result by name (upper-cased, as Snowflake names them) and its rows (null for SQL NULL).</summary>
    public sealed record Result(IReadOnlyDictionary<string, int> Columns, IReadOnlyList<string?[]> Rows)
    {
        public string? Get(string?[] row, string column) => Columns.TryGetValue(column, out var i) && i < row.Length ? row[i] : null;
    }

    /// <summary>The first wait between two polls of a running statement; it doubles up to <see cref="MaxPoll"/>.</summary>
    public static TimeSpan FirstPoll { get; set; } = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(5);

    public string Where => DbtConnector.Describe(baseUrl);

    /// <summary>Runs <paramref name="sql"/> (with <paramref name="bindings"/> for its <c>?</c>, as TEXT) and reads every partition.</summary>
    public async Task<Result> QueryAsync(string sql, string what, CancellationToken ct, params string[] bindings)
    {
        var body = new Dictionary<string, object>
        {
            ["statement"] = sql,
            ["timeout"] = context.TimeoutSeconds,
        };
        if (context.Warehouse is not null)
        {
            body["warehouse"] = context.Warehouse;
        }

        if (context.Role is not null)
        {
            body["role"] = context.Role;
        }

        if (bindings.Length > 0)
        {
            body["bindings"] = bindings.Select((v, i) => (Key: (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Value: v))
                .ToDictionary(b => b.Key, b => new { type = "TEXT", value = b.Value });
        }

        var url = new Uri(baseUrl, $"api/v2/statements?requestId={Guid.NewGuid()}");
        using var request = Request(HttpMethod.Post, url);
        request.Content = JsonContent.Create(body);
        var answer = await ConnectorHttp.ExchangeAsync(client, request, Where, ct);
        var (handle, first) = await ResultOrPollAsync(answer, what, ct);
        using (first)
        {
            try
            {
                return await ReadResultAsync(first.RootElement, handle, what, ct);
            }
            catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
            {
                // A 200 whose body is not the documented ResultSet (rowType missing, a row that is not an array).
                throw new SyncFailedException($"Snowflake at {Where} answered reading {what} with a result this server cannot read", ex);
            }
        }
    }

    private async Task<Result> ReadResultAsync(JsonElement root, string handle, string what, CancellationToken ct)
    {
        var meta = root.GetProperty("resultSetMetaData");
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        var i = 0;
        foreach (var column in meta.GetProperty("rowType").EnumerateArray())
        {
            columns.TryAdd((ConnectorHttp.String(column, "name") ?? "").ToUpperInvariant(), i++);
        }

        var rows = new List<string?[]>();
        AddRows(root, rows);
        var partitions = meta.TryGetProperty("partitionInfo", out var info) && info.ValueKind == JsonValueKind.Array ? info.GetArrayLength() : 1;
        for (var p = 1; p < partitions; p++)
        {
            using var partition = Request(HttpMethod.Get, StatementUrl(handle, $"?partition={p}"));
            using var page = await ConnectorHttp.ExchangeAsync(client, partition, Where, ct);
            if (page.Status != 200 || page.Body is null)
            {
                throw Failure(page, what);
            }

            AddRows(page.Body.RootElement, rows);
        }

        return new Result(columns, rows);
    }

    /// <summary>
    /// A 200's body, or the body of the 200 that polling a 202's handle ends with. Owns <paramref name="answer"/> and
    /// every poll's answer: it disposes them all but the body it returns, which the caller disposes.
    /// </summary>
    private async Task<(string Handle, JsonDocument Body)> ResultOrPollAsync(ConnectorHttp.Answer answer, string what, CancellationToken ct)
    {
        ConnectorHttp.Answer? current = answer;
        var wait = FirstPoll;
        try
        {
            while (true)
            {
                var handle = current.Body is { } b ? ConnectorHttp.String(b.RootElement, "statementHandle") : null;
                if (current.Status == 200 && current.Body is { } done && done.RootElement.TryGetProperty("resultSetMetaData", out _) && handle is not null)
                {
                    current = null;
                    return (handle, done);
                }

                if (current.Status != 202 || handle is null)
                {
                    throw Failure(current, what);
                }

                await Task.Delay(wait, ct);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxPoll.Ticks));
                using var poll = Request(HttpMethod.Get, StatementUrl(handle, ""));
                var next = await ConnectorHttp.ExchangeAsync(client, poll, Where, ct);
                current.Dispose();
                current = next;
            }
        }
        finally
        {
            current?.Dispose();
        }
    }

    private Uri StatementUrl(string handle, string query) => new(baseUrl, $"api/v2/statements/{Uri.EscapeDataString(handle)}{query}");

    private HttpRequestMessage Request(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keyPair.CreateToken());
        request.Headers.Add("X-Snowflake-Authorization-Token-Type", "KEYPAIR_JWT");
        return request;
    }

    private static void AddRows(JsonElement root, List<string?[]> rows)
    {
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var row in data.EnumerateArray())
        {
            rows.Add([.. row.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : null)]);
        }
    }

    /// <summary>What a failed answer says: its status and the error body's <c>code</c>, <c>sqlState</c> and <c>message</c>.</summary>
    private SyncFailedException Failure(ConnectorHttp.Answer answer, string what)
    {
        var root = answer.Body?.RootElement ?? default;
        var code = ConnectorHttp.String(root, "code");
        var message = ConnectorHttp.Bounded(ConnectorHttp.String(root, "message"));
        var sqlState = ConnectorHttp.String(root, "sqlState");
        var said = message is null ? "" : $" ({code}{(sqlState is null ? "" : $", SQL state {sqlState}")}: {message})";
        var hint = answer.Status switch
        {
            401 => ": check the secret private_key (its public key must be set on the user: ALTER USER … SET RSA_PUBLIC_KEY) "
                + "and the settings account and user",
            403 => ": check the role and its grants (settings role, warehouse)",
            404 => ": check the settings account and account_url",
            408 => $": the statement ran longer than {context.TimeoutSeconds} s (timeout_seconds)",
            422 => "",
            200 => ": the answer is not a SQL API result set",
            _ => "",
        };
        return answer.Status == 422
            ? new SyncFailedException($"Snowflake at {Where} could not read {what}{said}")
            : new SyncFailedException($"Snowflake at {Where} answered {answer.Status} reading {what}{said}{hint}");
    }
}

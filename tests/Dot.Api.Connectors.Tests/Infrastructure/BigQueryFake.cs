using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dot.Api.Connectors.Tests.Infrastructure;

/// <summary>
/// Google's OAuth token endpoint and BigQuery's REST API v2 on one loopback Kestrel, as their references document them
/// (Fixtures/bigquery/README.md). <c>POST /token</c> is the OAuth 2.0 JWT-bearer grant: the assertion's RS256
/// signature is verified with the service account's public key, <c>iss</c> = its e-mail, <c>aud</c> = Google's token endpoint (<see cref="Audience"/>),
/// <c>scope</c> BigQuery's, <c>exp</c> in the future and at most an hour after <c>iat</c> (by <paramref name="time"/>);
/// it issues a random access token, the only bearer the API then accepts. The API serves datasets.list (paged, one
/// dataset a page), jobs.query and jobs.getQueryResults (paged, <see cref="RowsPerPage"/> rows a page; jobs whose query
/// holds one of <see cref="IncompleteQueries"/> answer jobComplete false twice first) from the fixtures.
/// </summary>
public sealed class BigQueryFake(RSA serviceAccountPublicKey, string clientEmail, string project, TimeProvider time) : IAsyncDisposable
{
    public const string Scope = "https://www.googleapis.com/auth/bigquery.readonly";

    /// <summary>
    /// The assertion's <c>aud</c>: Google documents it as always https://oauth2.googleapis.com/token for an access-token
    /// request ("Using OAuth 2.0 for Server to Server Applications"), whatever URL the request is posted to.
    /// </summary>
    public const string Audience = "https://oauth2.googleapis.com/token";

    private static readonly Regex InformationSchema = new(@"FROM `([^`]+)`\.`([^`]+)`\.INFORMATION_SCHEMA\.(COLUMNS|TABLES) AS", RegexOptions.CultureInvariant);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (JsonObject Result, string? Location, int PollsLeft)> _jobs = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public Uri TokenUri => new(BaseAddress, "token");

    public int RowsPerPage { get; set; } = 2;

    public List<string> IncompleteQueries { get; } = [];

    /// <summary>How long each API request (not the token request) waits before it is answered.</summary>
    public TimeSpan Delay { get; set; }

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Each jobs.query request's query, location and useLegacySql.</summary>
    public ConcurrentQueue<(string Query, string? Location, bool? LegacySql)> Queries { get; } = new();

    /// <summary>Why each refused assertion or bearer token was refused.</summary>
    public ConcurrentQueue<string> Refusals { get; } = new();

    public int TokensIssued => _tokens.Count;

    public static string FixturePath(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "bigquery", file);

    /// <summary>
    /// A service account's JSON key file as Google's console gives it, for this fake's account and project, holding
    /// <paramref name="key"/> (the fake's own key, or another to be refused) and naming this fake as its token endpoint.
    /// </summary>
    public string ServiceAccountKey(RSA key, string? tokenUri = null, string type = "service_account") => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["type"] = type,
        ["project_id"] = project,
        ["private_key_id"] = "5f1c2a3b4d5e6f708192a3b4c5d6e7f801234567",
        ["private_key"] = key.ExportPkcs8PrivateKeyPem(),
        ["client_email"] = clientEmail,
        ["client_id"] = "104729384756102938475",
        ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
        ["token_uri"] = tokenUri ?? TokenUri.ToString(),
        ["auth_provider_x509_cert_url"] = "https://www.googleapis.com/oauth2/v1/certs",
        ["client_x509_cert_url"] = $"https://www.googleapis.com/robot/v1/metadata/x509/{Uri.EscapeDataString(clientEmail)}",
        ["universe_domain"] = "googleapis.com",
    });

    private static JsonObject Fixture(string file) => JsonNode.Parse(File.ReadAllText(FixturePath(file)))!.AsObject();

    public async Task<BigQueryFake> StartAsync()
    {
        _app = LoopbackApp.Create();
        _app.Use(async (context, next) =>
        {
            Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            if (context.Request.Path == "/token")
            {
                await next(context);
                return;
            }

            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, context.RequestAborted);
            }

            var bearer = context.Request.Headers.Authorization.ToString();
            if (!bearer.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.TryGetValue(bearer["Bearer ".Length..], out var expires)
                || expires <= time.GetUtcNow())
            {
                Refusals.Enqueue("access token not issued here");
                await WriteAsync(context, 401, Fixture("error-401.json"));
                return;
            }

            await next(context);
        });
        _app.MapPost("/token", TokenAsync);
        _app.MapGet("/bigquery/v2/projects/{project}/datasets", DatasetsAsync);
        _app.MapPost("/bigquery/v2/projects/{project}/queries", QueryAsync);
        _app.MapGet("/bigquery/v2/projects/{project}/queries/{jobId}", ResultsAsync);
        BaseAddress = await LoopbackApp.StartAsync(_app);
        return this;
    }

    private async Task TokenAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var refusal = form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer" ? "not the JWT-bearer grant" : VerifyAssertion(form["assertion"].ToString());
        if (refusal is not null)
        {
            Refusals.Enqueue(refusal);
            await WriteAsync(context, 400, Fixture("token-error-invalid-grant.json"));
            return;
        }

        var token = "ya29." + Base64Url(RandomNumberGenerator.GetBytes(32));
        _tokens[token] = time.GetUtcNow().AddHours(1);
        await WriteAsync(context, 200, new JsonObject { ["access_token"] = token, ["expires_in"] = 3599, ["token_type"] = "Bearer" });
    }

    private string? VerifyAssertion(string assertion)
    {
        var parts = assertion.Split('.');
        if (parts.Length != 3)
        {
            return "not a JWS";
        }

        using var header = JsonDocument.Parse(FromBase64Url(parts[0]));
        if (header.RootElement.GetProperty("alg").GetString() != "RS256")
        {
            return "not RS256";
        }

        if (!serviceAccountPublicKey.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), FromBase64Url(parts[2]), HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1))
        {
            return "bad signature";
        }

        using var claims = JsonDocument.Parse(FromBase64Url(parts[1]));
        var root = claims.RootElement;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var iat = root.GetProperty("iat").GetInt64();
        var exp = root.GetProperty("exp").GetInt64();
        return root.GetProperty("iss").GetString() != clientEmail ? "wrong iss"
            : root.GetProperty("aud").GetString() != Audience ? "wrong aud"
            : root.GetProperty("scope").GetString()?.Split(' ').Contains(Scope) != true ? "wrong scope"
            : exp <= now ? "expired"
            : exp - iat > 3600 ? "lifetime over an hour"
            : null;
    }

    private async Task DatasetsAsync(HttpContext context, string project)
    {
        if (!await KnownProjectAsync(context, project))
        {
            return;
        }

        var all = Fixture("datasets.json");
        var datasets = all["datasets"]!.AsArray();
        var start = context.Request.Query["pageToken"] is { Count: > 0 } token ? int.Parse(Encoding.UTF8.GetString(FromBase64Url(token!)), System.Globalization.CultureInfo.InvariantCulture) : 0;
        var page = new JsonObject { ["kind"] = all["kind"]!.DeepClone(), ["etag"] = all["etag"]!.DeepClone() };
        page["datasets"] = new JsonArray(datasets[start]!.DeepClone());
        if (start + 1 < datasets.Count)
        {
            page["nextPageToken"] = Base64Url(Encoding.UTF8.GetBytes((start + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        await WriteAsync(context, 200, page);
    }

    private async Task QueryAsync(HttpContext context, string project)
    {
        if (!await KnownProjectAsync(context, project))
        {
            return;
        }

        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var query = body["query"]!.GetValue<string>();
        var location = body["location"]?.GetValue<string>();
        Queries.Enqueue((query, location, body["useLegacySql"]?.GetValue<bool>()));
        var match = InformationSchema.Match(query);
        var dataset = match.Success ? match.Groups[2].Value : "?";
        if (!match.Success || match.Groups[1].Value != project || !File.Exists(FixturePath($"{dataset}.{match.Groups[3].Value.ToLowerInvariant()}.json")))
        {
            var error = Fixture("error-404-dataset.json").ToJsonString()
                .Replace("{project}", project, StringComparison.Ordinal).Replace("{dataset}", dataset, StringComparison.Ordinal)
                .Replace("{location}", location ?? "US", StringComparison.Ordinal);
            await WriteAsync(context, 404, JsonNode.Parse(error)!);
            return;
        }

        var jobId = "job_" + Guid.NewGuid().ToString("N");
        var result = Fixture($"{dataset}.{match.Groups[3].Value.ToLowerInvariant()}.json");
        result["jobReference"] = new JsonObject { ["projectId"] = project, ["jobId"] = jobId, ["location"] = location ?? "US" };
        var incomplete = IncompleteQueries.Any(q => query.Contains(q, StringComparison.Ordinal));
        _jobs[jobId] = (result, location ?? "US", incomplete ? 2 : 0);
        if (incomplete)
        {
            await WriteAsync(context, 200, new JsonObject { ["kind"] = "bigquery#queryResponse", ["jobReference"] = result["jobReference"]!.DeepClone(), ["jobComplete"] = false });
            return;
        }

        await WriteAsync(context, 200, Page(result, 0, "bigquery#queryResponse"));
    }

    private async Task ResultsAsync(HttpContext context, string project, string jobId)
    {
        if (!_jobs.TryGetValue(jobId, out var job) || context.Request.Query["location"] != job.Location)
        {
            var error = Fixture("error-404-dataset.json");
            error["error"]!["message"] = $"Not found: Job {project}:{jobId}";
            await WriteAsync(context, 404, error);
            return;
        }

        if (job.PollsLeft > 0)
        {
            _jobs[jobId] = (job.Result, job.Location, job.PollsLeft - 1);
            await WriteAsync(context, 200, new JsonObject { ["kind"] = "bigquery#getQueryResultsResponse", ["jobReference"] = job.Result["jobReference"]!.DeepClone(), ["jobComplete"] = false });
            return;
        }

        var start = context.Request.Query["pageToken"] is { Count: > 0 } token ? int.Parse(Encoding.UTF8.GetString(FromBase64Url(token!)), System.Globalization.CultureInfo.InvariantCulture) : 0;
        await WriteAsync(context, 200, Page(job.Result, start, "bigquery#getQueryResultsResponse"));
    }

    /// <summary>Rows from <paramref name="start"/>, at most <see cref="RowsPerPage"/>, with a pageToken when more follow.</summary>
    private JsonObject Page(JsonObject result, int start, string kind)
    {
        var page = result.DeepClone().AsObject();
        page["kind"] = kind;
        var rows = result["rows"]!.AsArray();
        page["rows"] = new JsonArray([.. rows.Skip(start).Take(RowsPerPage).Select(r => r!.DeepClone())]);
        if (start + RowsPerPage < rows.Count)
        {
            page["pageToken"] = Base64Url(Encoding.UTF8.GetBytes((start + RowsPerPage).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return page;
    }

    private async Task<bool> KnownProjectAsync(HttpContext context, string name)
    {
        if (name == project)
        {
            return true;
        }

        var error = Fixture("error-404-dataset.json");
        error["error"]!["message"] = $"Not found: Project {name}";
        await WriteAsync(context, 404, error);
        return false;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }

    private static async Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await LoopbackApp.StopAsync(_app);
    }
}

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
/// Snowflake's SQL API on a loopback Kestrel, as its reference documents it (Fixtures/snowflake/README.md):
/// <c>POST /api/v2/statements</c> and <c>GET /api/v2/statements/{handle}[?partition=N]</c>, each request authenticated
/// with a key-pair JWT that this fake verifies as Snowflake does: <c>X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT</c>,
/// an RS256 signature checked against the user's public key, <c>iss</c> = <c>ACCOUNT.USER.SHA256:&lt;fingerprint of that
/// key&gt;</c>, <c>sub</c> = <c>ACCOUNT.USER</c>, <c>exp</c> in the future and at most an hour after <c>iat</c> (by
/// <paramref name="time"/>, the server's clock). Results come from the fixtures, split into partitions of
/// <see cref="PartitionRows"/> rows; statements matching <see cref="AsyncStatements"/> answer 202 and are polled.
/// </summary>
public sealed class SnowflakeFake(RSA userPublicKey, string account, string user, TimeProvider time) : IAsyncDisposable
{
    private static readonly Regex InformationSchema = new("""FROM "((?:[^"]|"")+)"\.INFORMATION_SCHEMA\.(SCHEMATA|TABLES|COLUMNS)\b""", RegexOptions.CultureInvariant);

    private readonly ConcurrentDictionary<string, (JsonObject Result, int PollsLeft)> _statements = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Rows per partition: smaller than the fixtures, so the connector must fetch partitions.</summary>
    public int PartitionRows { get; set; } = 2;

    /// <summary>Statements containing one of these answer 202 first; the status endpoint answers 202 once more, then 200.</summary>
    public List<string> AsyncStatements { get; } = [];

    /// <summary>How long each request waits before it is answered.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>When set, every request is answered 307 to this path (a moved account URL).</summary>
    public string? RedirectTo { get; set; }

    /// <summary>Each request's method and path with query, as received.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The statements posted, with the body's warehouse, role and timeout.</summary>
    public ConcurrentQueue<(string Statement, string? Warehouse, string? Role, int? Timeout)> Statements { get; } = new();

    /// <summary>Why each refused JWT was refused.</summary>
    public ConcurrentQueue<string> Refusals { get; } = new();

    public static string FixturePath(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "snowflake", file);

    private static JsonObject Fixture(string file) => JsonNode.Parse(File.ReadAllText(FixturePath(file)))!.AsObject();

    /// <summary>What Snowflake shows as RSA_PUBLIC_KEY_FP for <paramref name="key"/>.</summary>
    public static string Fingerprint(RSA key) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    public async Task<SnowflakeFake> StartAsync()
    {
        _app = LoopbackApp.Create();
        _app.Use(async (context, next) =>
        {
            Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, context.RequestAborted);
            }

            if (RedirectTo is not null)
            {
                context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                context.Response.Headers.Location = RedirectTo;
                return;
            }

            if (Authenticate(context.Request) is { } refusal)
            {
                Refusals.Enqueue(refusal);
                await WriteAsync(context, 401, Fixture("error-401-jwt-invalid.json"));
                return;
            }

            await next(context);
        });
        _app.MapPost("/api/v2/statements", PostAsync);
        _app.MapGet("/api/v2/statements/{handle}", GetAsync);
        BaseAddress = await LoopbackApp.StartAsync(_app);
        return this;
    }

    private async Task PostAsync(HttpContext context)
    {
        if (!context.Request.Query.ContainsKey("requestId"))
        {
            await WriteAsync(context, 400, new JsonObject { ["code"] = "391902", ["message"] = "requestId is required." });
            return;
        }

        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var statement = body["statement"]!.GetValue<string>();
        Statements.Enqueue((statement, body["warehouse"]?.GetValue<string>(), body["role"]?.GetValue<string>(), body["timeout"]?.GetValue<int>()));
        var handle = Guid.NewGuid().ToString();
        JsonObject result;
        if (statement == "SHOW DATABASES")
        {
            result = Fixture("show-databases.json");
        }
        else if (InformationSchema.Match(statement) is { Success: true } match
            && match.Groups[1].Value.Replace("\"\"", "\"", StringComparison.Ordinal) is var database
            && File.Exists(FixturePath($"{database}.{match.Groups[2].Value}.json")))
        {
            result = Fixture($"{database}.{match.Groups[2].Value}.json");
        }
        else
        {
            var error = Fixture("error-422-no-database.json");
            var named = InformationSchema.Match(statement) is { Success: true } m ? m.Groups[1].Value : "?";
            error["message"] = error["message"]!.GetValue<string>().Replace("{database}", named, StringComparison.Ordinal);
            error["statementHandle"] = handle;
            await WriteAsync(context, 422, error);
            return;
        }

        result["statementHandle"] = handle;
        var async = AsyncStatements.Any(s => statement.Contains(s, StringComparison.Ordinal));
        _statements[handle] = (result, async ? 2 : 0);
        if (async)
        {
            await WriteAsync(context, 202, Status(handle));
            return;
        }

        await WriteAsync(context, 200, Partition(result, 0));
    }

    private async Task GetAsync(HttpContext context, string handle)
    {
        if (!_statements.TryGetValue(handle, out var entry))
        {
            await WriteAsync(context, 404, new JsonObject { ["code"] = "333333", ["message"] = "Statement not found." });
            return;
        }

        if (entry.PollsLeft > 1)
        {
            _statements[handle] = (entry.Result, entry.PollsLeft - 1);
            await WriteAsync(context, 202, Status(handle));
            return;
        }

        _statements[handle] = (entry.Result, 0);
        var partition = int.TryParse(context.Request.Query["partition"], out var p) ? p : 0;
        await WriteAsync(context, 200, Partition(entry.Result, partition));
    }

    private static JsonObject Status(string handle)
    {
        var status = Fixture("query-status-202.json");
        status["statementHandle"] = handle;
        status["statementStatusUrl"] = $"/api/v2/statements/{handle}";
        return status;
    }

    /// <summary>Partition 0: the whole result set with the first rows and every partition's size; later ones: their data only.</summary>
    private JsonObject Partition(JsonObject result, int partition)
    {
        var rows = result["data"]!.AsArray().Select(r => r!.DeepClone()).ToList();
        var chunks = rows.Chunk(PartitionRows).ToList();
        if (chunks.Count == 0)
        {
            chunks.Add([]);
        }

        var data = new JsonArray([.. chunks[Math.Min(partition, chunks.Count - 1)]]);
        if (partition > 0)
        {
            return new JsonObject { ["data"] = data };
        }

        var first = result.DeepClone().AsObject();
        first["data"] = data;
        first["resultSetMetaData"]!["partitionInfo"] = new JsonArray([.. chunks.Select(c => (JsonNode)new JsonObject
        {
            ["rowCount"] = c.Length,
            ["uncompressedSize"] = c.Sum(r => r!.ToJsonString().Length),
        })]);
        return first;
    }

    /// <summary>Null when the request carries a valid key-pair JWT for the configured user; otherwise why not.</summary>
    private string? Authenticate(HttpRequest request)
    {
        if (request.Headers["X-Snowflake-Authorization-Token-Type"] != "KEYPAIR_JWT")
        {
            return "no X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT";
        }

        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return "no bearer token";
        }

        var parts = authorization["Bearer ".Length..].Split('.');
        if (parts.Length != 3)
        {
            return "not a JWS";
        }

        using var header = JsonDocument.Parse(Base64Url(parts[0]));
        if (header.RootElement.GetProperty("alg").GetString() != "RS256")
        {
            return "not RS256";
        }

        if (!userPublicKey.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), Base64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return "bad signature";
        }

        using var claims = JsonDocument.Parse(Base64Url(parts[1]));
        var qualified = $"{account.ToUpperInvariant()}.{user.ToUpperInvariant()}";
        var root = claims.RootElement;
        if (root.GetProperty("iss").GetString() != $"{qualified}.{Fingerprint(userPublicKey)}")
        {
            return "wrong iss";
        }

        if (root.GetProperty("sub").GetString() != qualified)
        {
            return "wrong sub";
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var iat = root.GetProperty("iat").GetInt64();
        var exp = root.GetProperty("exp").GetInt64();
        return exp <= now ? "expired" : exp - iat > 3600 ? "lifetime over an hour" : iat > now + 60 ? "issued in the future" : null;
    }

    private static byte[] Base64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }

    private static async Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await LoopbackApp.StopAsync(_app);
    }
}

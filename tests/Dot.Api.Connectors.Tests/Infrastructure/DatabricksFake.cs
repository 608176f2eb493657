using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dot.Api.Connectors.Tests.Infrastructure;

/// <summary>
/// A Databricks workspace on a free loopback port, speaking the Unity Catalog REST API as documented (see
/// Fixtures/databricks/README.md): <c>GET /api/2.1/unity-catalog/{catalogs,schemas,tables}</c> filtered by
/// <c>catalog_name</c> / <c>schema_name</c> and paged with <c>max_results</c> (0: the server's page length,
/// <see cref="PageLength"/>), <c>page_token</c> and <c>next_page_token</c> (the tables listing opens with an empty page
/// that has a next_page_token, which the reference says may happen); the OAuth M2M token endpoint
/// <c>POST /oidc/v1/token</c>, which checks the client's HTTP Basic credentials, the grant and the scope, and issues a
/// random token it remembers. Every listing requires <c>Authorization: Bearer</c> with the personal access token or a
/// token this fake issued (and not expired); otherwise it answers 401 with Databricks' error object.
/// </summary>
public sealed class DatabricksFake(string? personalAccessToken, string? clientId = null, string? clientSecret = null) : IAsyncDisposable
{
    private readonly JsonArray _catalogs = Load("list-catalogs.json")["catalogs"]!.AsArray();
    private readonly JsonArray _schemas = Load("list-schemas.json")["schemas"]!.AsArray();
    private readonly JsonArray _tables = Load("list-tables.json")["tables"]!.AsArray();
    private readonly ConcurrentDictionary<string, DateTime> _issued = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Items per page when the client sends max_results=0 (or more than this).</summary>
    public int PageLength { get; set; } = 2;

    /// <summary>"GET /api/2.1/unity-catalog/tables?catalog_name=…" of every request, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The Authorization header of every Unity Catalog request.</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    public IReadOnlyCollection<string> IssuedTokens => [.. _issued.Keys];

    /// <summary>(catalog, schema) whose tables listing answers 403 PERMISSION_DENIED.</summary>
    public (string Catalog, string Schema)? DeniedSchema { get; set; }

    /// <summary>When set, every Unity Catalog request is answered 302 to this location.</summary>
    public string? RedirectTo { get; set; }

    /// <summary>Answer every Unity Catalog request 502 with an HTML page (a proxy's), this marker in its body and reason phrase.</summary>
    public string? HtmlErrorMarker { get; set; }

    /// <summary>How long every Unity Catalog answer takes.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>When set, the first Unity Catalog request waits here (after <see cref="Arrived"/> is signalled) until it completes.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "databricks", name);

    /// <summary>The fixture's tables (catalog.schema.table → table), for the tests to compare with.</summary>
    public static Dictionary<string, JsonNode> FixtureTables()
        => Load("list-tables.json")["tables"]!.AsArray().ToDictionary(
            t => $"{t!["catalog_name"]}.{t["schema_name"]}.{t["name"]}", t => t!, StringComparer.Ordinal);

    public async Task<DatabricksFake> StartAsync()
    {
        _app = LoopbackApp.Create();
        _app.MapPost("/oidc/v1/token", TokenAsync);
        _app.MapGet("/api/2.1/unity-catalog/catalogs", context => ListAsync(context, "catalogs", _catalogs, _ => true));
        _app.MapGet("/api/2.1/unity-catalog/schemas", context =>
        {
            var catalog = context.Request.Query["catalog_name"].ToString();
            return catalog.Length == 0
                ? ErrorAsync(context, 400, "INVALID_PARAMETER_VALUE", "Missing required field: catalog_name")
                : ListAsync(context, "schemas", _schemas, s => (string?)s["catalog_name"] == catalog);
        });
        _app.MapGet("/api/2.1/unity-catalog/tables", context =>
        {
            var catalog = context.Request.Query["catalog_name"].ToString();
            var schema = context.Request.Query["schema_name"].ToString();
            if (catalog.Length == 0 || schema.Length == 0)
            {
                return ErrorAsync(context, 400, "INVALID_PARAMETER_VALUE", "Missing required field: catalog_name, schema_name");
            }

            if (DeniedSchema == (catalog, schema))
            {
                return ErrorJsonAsync(context, 403, File.ReadAllText(FixturePath("error-permission-denied.json")));
            }

            if (context.Request.Query.TryGetValue("max_results", out var max) && int.TryParse(max, out var m) && m > 50)
            {
                return ErrorAsync(context, 400, "INVALID_PARAMETER_VALUE", "max_results must be at most 50 when columns are returned");
            }

            return ListAsync(context, "tables", _tables, t => (string?)t["catalog_name"] == catalog && (string?)t["schema_name"] == schema,
                emptyFirstPage: true);
        });
        BaseAddress = await LoopbackApp.StartAsync(_app);
        return this;
    }

    /// <summary>OAuth 2.0 client credentials (RFC 6749 §4.4) with HTTP Basic client authentication (§2.3.1).</summary>
    private async Task TokenAsync(HttpContext context)
    {
        Requests.Enqueue($"POST {context.Request.Path}{context.Request.QueryString}");
        if (!context.Request.HasFormContentType)
        {
            await OAuthErrorAsync(context, 400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
            return;
        }

        var form = await context.Request.ReadFormAsync();
        if (form["grant_type"] != "client_credentials")
        {
            await OAuthErrorAsync(context, 400, "unsupported_grant_type", "grant_type must be client_credentials");
            return;
        }

        if (form["scope"] != "all-apis")
        {
            await OAuthErrorAsync(context, 400, "invalid_scope", "scope must be all-apis");
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        string? id = null, secret = null;
        if (header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                id = Uri.UnescapeDataString(pair[..colon]);
                secret = Uri.UnescapeDataString(pair[(colon + 1)..]);
            }
        }

        if (clientId is null || id != clientId || !FixedTimeEquals(secret, clientSecret))
        {
            await OAuthErrorAsync(context, 401, "invalid_client", "Client authentication failed");
            return;
        }

        var token = "eyJ" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        _issued[token] = DateTime.UtcNow.AddHours(1);
        var body = Load("oauth-token.json");
        body["access_token"] = token;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private async Task ListAsync(HttpContext context, string property, JsonArray all, Func<JsonNode, bool> filter, bool emptyFirstPage = false)
    {
        Requests.Enqueue($"GET {context.Request.Path}{context.Request.QueryString}");
        var authorization = context.Request.Headers.Authorization.ToString();
        Authorizations.Enqueue(authorization);
        Arrived.TrySetResult();
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(context.RequestAborted);
        }

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, context.RequestAborted);
        }

        if (RedirectTo is { } location)
        {
            context.Response.Redirect(location);
            return;
        }

        if (HtmlErrorMarker is { } marker)
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>()!.ReasonPhrase = $"Bad Gateway {marker}";
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync($"<html><body>upstream {marker} failed</body></html>");
            return;
        }

        if (!IsAuthorized(authorization))
        {
            await ErrorJsonAsync(context, 401, File.ReadAllText(FixturePath("error-unauthenticated.json")));
            return;
        }

        var items = all.Where(i => filter(i!)).ToList();
        var query = context.Request.Query;
        var length = items.Count;
        if (query.TryGetValue("max_results", out var maxText))
        {
            if (!int.TryParse(maxText, out var max) || max < 0)
            {
                await ErrorAsync(context, 400, "INVALID_PARAMETER_VALUE", "max_results must be a non-negative number");
                return;
            }

            length = max == 0 ? PageLength : Math.Min(max, PageLength);
        }

        var token = query["page_token"].ToString();
        int offset;
        if (token.Length == 0)
        {
            offset = 0;
            if (emptyFirstPage && query.ContainsKey("max_results"))
            {
                await WriteAsync(context, new JsonObject { [property] = new JsonArray(), ["next_page_token"] = PageToken(0) });
                return;
            }
        }
        else if (!TryReadPageToken(token, out offset) || offset > items.Count)
        {
            await ErrorAsync(context, 400, "INVALID_PARAMETER_VALUE", "Invalid page token");
            return;
        }

        var page = new JsonArray([.. items.Skip(offset).Take(length).Select(i => i!.DeepClone())]);
        var answer = new JsonObject { [property] = page };
        if (offset + length < items.Count)
        {
            answer["next_page_token"] = PageToken(offset + length);
        }

        await WriteAsync(context, answer);
    }

    private bool IsAuthorized(string authorization)
    {
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return false;
        }

        var token = authorization["Bearer ".Length..];
        return (personalAccessToken is not null && FixedTimeEquals(token, personalAccessToken))
            || (_issued.TryGetValue(token, out var expires) && expires > DateTime.UtcNow);
    }

    private static string PageToken(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"offset:{offset}"));

    private static bool TryReadPageToken(string token, out int offset)
    {
        offset = 0;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            return text.StartsWith("offset:", StringComparison.Ordinal) && int.TryParse(text["offset:".Length..], out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool FixedTimeEquals(string? a, string? b)
        => a is not null && b is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static JsonNode Load(string name) => JsonNode.Parse(File.ReadAllText(FixturePath(name)))!;

    private static async Task WriteAsync(HttpContext context, JsonNode body)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private static Task ErrorAsync(HttpContext context, int status, string code, string message)
        => ErrorJsonAsync(context, status, JsonSerializer.Serialize(new { error_code = code, message }));

    private static async Task ErrorJsonAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json);
    }

    private static async Task OAuthErrorAsync(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { error_description = description, error }));
    }

    public async ValueTask DisposeAsync()
    {
        Gate?.TrySetResult();
        await LoopbackApp.StopAsync(_app);
    }
}

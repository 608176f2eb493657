using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dot.Api.Connectors.Tests.Infrastructure;

/// <summary>
/// A Looker instance on a free loopback port, speaking the Looker API 4.0 as documented (see Fixtures/looker/README.md):
/// <c>POST /api/4.0/login</c> takes <c>client_id</c> and <c>client_secret</c> in a form body (in the query they are
/// refused, as Looker is deprecating that) and issues a random access token it remembers; every other method requires
/// <c>Authorization: token &lt;access_token&gt;</c> with a token it issued and that was not logged out
/// (<c>DELETE /api/4.0/logout</c>), else 401. Listings page with <c>limit</c> and <c>offset</c>; errors are Looker's
/// <c>{"message", "documentation_url"}</c>; a failed login answers 404, as Looker does.
/// </summary>
public sealed class LookerFake(string clientId, string clientSecret) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, bool> _live = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public JsonArray Dashboards { get; set; } = Load("dashboards.json").AsArray();

    public JsonArray Looks { get; set; } = Load("looks.json").AsArray();

    /// <summary>"GET /api/4.0/lookml_models?fields=…" of every request, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The Authorization header of every request after login.</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    private int _logins;
    private int _logouts;

    public int Logins => Volatile.Read(ref _logins);

    public int Logouts => Volatile.Read(ref _logouts);

    /// <summary>Tokens issued and not logged out.</summary>
    public int LiveTokens => _live.Count;

    /// <summary>A path (after /api/4.0/) that answers 500 with Looker's error body.</summary>
    public string? BrokenPath { get; set; }

    /// <summary>How long every answer after login takes.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>When set, requests after login wait here (after <see cref="Arrived"/> is signalled).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "looker", name);

    public static JsonNode Load(string name) => JsonNode.Parse(File.ReadAllText(FixturePath(name)))!;

    public async Task<LookerFake> StartAsync()
    {
        _app = LoopbackApp.Create();
        _app.MapPost("/api/4.0/login", LoginAsync);
        _app.MapDelete("/api/4.0/logout", context => AuthorizedAsync(context, () =>
        {
            var token = context.Request.Headers.Authorization.ToString()["token ".Length..];
            _live.TryRemove(token, out _);
            Interlocked.Increment(ref _logouts);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }, gated: false));
        _app.MapGet("/api/4.0/lookml_models", context => AuthorizedAsync(context, () => PageAsync(context, Load("lookml_models.json").AsArray())));
        _app.MapGet("/api/4.0/lookml_models/{model}/explores/{explore}", (HttpContext context, string model, string explore) =>
            AuthorizedAsync(context, async () =>
            {
                var path = FixturePath(Path.Combine("explores", $"{model}.{explore}.json"));
                if (model.Contains('/') || explore.Contains('/') || !File.Exists(path))
                {
                    await ErrorAsync(context, 404, "Not found");
                    return;
                }

                context.Response.ContentType = "application/json";
                await context.Response.SendFileAsync(path);
            }));
        _app.MapGet("/api/4.0/dashboards/search", context => AuthorizedAsync(context, () => PageAsync(context, Dashboards)));
        _app.MapGet("/api/4.0/looks/search", context => AuthorizedAsync(context, () => PageAsync(context, Looks)));
        BaseAddress = await LoopbackApp.StartAsync(_app);
        return this;
    }

    private async Task LoginAsync(HttpContext context)
    {
        Requests.Enqueue($"POST {context.Request.Path}{context.Request.QueryString}");
        if (context.Request.Query.ContainsKey("client_secret") || !context.Request.HasFormContentType)
        {
            await ErrorAsync(context, 400, "client_id and client_secret must be sent in a form body");
            return;
        }

        var form = await context.Request.ReadFormAsync();
        if (form["client_id"] != clientId || !FixedTimeEquals(form["client_secret"].ToString(), clientSecret))
        {
            context.Response.StatusCode = 404;
            context.Response.ContentType = "application/json";
            await context.Response.SendFileAsync(FixturePath("error-not-found.json"));
            return;
        }

        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)).Replace('+', 'x').Replace('/', 'y');
        _live[token] = true;
        Interlocked.Increment(ref _logins);
        var body = Load("login.json");
        body["access_token"] = token;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private async Task AuthorizedAsync(HttpContext context, Func<Task> answer, bool gated = true)
    {
        Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
        var authorization = context.Request.Headers.Authorization.ToString();
        Authorizations.Enqueue(authorization);
        if (gated)
        {
            Arrived.TrySetResult();
            if (Gate is { } gate)
            {
                await gate.Task.WaitAsync(context.RequestAborted);
            }

            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, context.RequestAborted);
            }
        }

        if (!authorization.StartsWith("token ", StringComparison.Ordinal) || !_live.ContainsKey(authorization["token ".Length..]))
        {
            context.Response.StatusCode = 401;
            context.Response.ContentType = "application/json";
            await context.Response.SendFileAsync(FixturePath("error-requires-authentication.json"));
            return;
        }

        if (BrokenPath is { } broken && context.Request.Path.Value == "/api/4.0/" + broken)
        {
            await ErrorAsync(context, 500, "An error has occurred.");
            return;
        }

        await answer();
    }

    private static async Task PageAsync(HttpContext context, JsonArray all)
    {
        var query = context.Request.Query;
        var offset = int.TryParse(query["offset"], out var o) ? o : 0;
        var limit = int.TryParse(query["limit"], out var l) ? l : int.MaxValue;
        if (offset < 0 || limit < 0)
        {
            await ErrorAsync(context, 400, "limit and offset must not be negative");
            return;
        }

        // search_dashboards and search_looks filter on the soft-deleted flag when asked (deleted=false: not in the trash).
        var items = query.TryGetValue("deleted", out var deleted) && bool.TryParse(deleted, out var wanted)
            ? all.Where(i => ((bool?)i!["deleted"] ?? false) == wanted)
            : all;
        var page = new JsonArray([.. items.Skip(offset).Take(limit).Select(i => i!.DeepClone())]);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(page.ToJsonString());
    }

    private static async Task ErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = new JsonObject
        {
            ["message"] = message,
            ["documentation_url"] = $"https://cloud.google.com/looker/docs/r/err/4.0/{status}{context.Request.Path.Value?.Replace("/api/4.0", "", StringComparison.Ordinal)}",
        };
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private static bool FixedTimeEquals(string a, string b)
        => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    public async ValueTask DisposeAsync()
    {
        Gate?.TrySetResult();
        await LoopbackApp.StopAsync(_app);
    }
}

using System.Net;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>
/// What the request pipeline runs for whom (issue #15): a request that carries no credential is not authenticated
/// at all, one that carries one is authenticated exactly once, and the branches for Swagger and the page's files are
/// entered only by their paths.
/// </summary>
[Trait("Store", "any")] // the pipeline's answers and what it builds; the store's part is every other suite's
public sealed class PipelineTests
{
    /// <summary>Counts the API-token handlers built: authentication builds one per request it authenticates.</summary>
    private sealed class HandlerCount
    {
        private int _built;

        public int Built => Volatile.Read(ref _built);

        public void Add() => Interlocked.Increment(ref _built);
    }

    private static DotApiFactory CountingHandlers(HandlerCount count)
        => new DotApiFactory().WithServices(s => s.AddTransient(sp =>
        {
            count.Add();
            return ActivatorUtilities.CreateInstance<ApiTokenHandler>(sp);
        }));

    [Fact]
    public async Task ARequestWithoutACredentialBuildsNoAuthenticationHandler()
    {
        var count = new HandlerCount();
        await using var factory = CountingHandlers(count);
        var client = factory.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/settings/users.js")).StatusCode);
        Assert.Equal(0, count.Built);

        // The answer to a protected route without a credential: the challenge says what is missing, written without a handler.
        var missing = await client.GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("missing_credentials", (await missing.JsonAsync()).GetProperty("reason").GetString());
        Assert.Equal(0, count.Built);
    }

    [Fact]
    public async Task AValidTokenIsCheckedWithoutBuildingTheHandler()
    {
        var count = new HandlerCount();
        await using var factory = CountingHandlers(count);
        var (_, _, client) = await factory.CreateCallerAsync("fast@example.com");
        var before = count.Built;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(before, count.Built);
    }

    [Fact]
    public async Task ARefusedTokenIsCheckedOnceAndItsChallengeSaysWhy()
    {
        // One failure a minute is the budget: a refusal counted twice would throttle the next request.
        var count = new HandlerCount();
        await using var factory = CountingHandlers(count).WithSetting("Dot:Auth:MaxFailuresPerMinute", "1");
        var (_, good, _) = await factory.CreateCallerAsync("once@example.com");
        var before = count.Built;
        var refused = await factory.ClientWith(Tokens.TokenFormat.Generate()).GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("unknown_token", (await refused.JsonAsync()).GetProperty("reason").GetString());
        Assert.Equal(before, count.Built); // the challenge is answered from the middleware's verdict, without a handler
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(good).GetAsync("/api/auth/me")).StatusCode);
    }

    /// <summary>
    /// What every kind of request is answered — status, challenge header, body fields — pinned in PipelineAnswers.txt
    /// (taken from the server before authorization was reduced to its own rule, when it was compared answer by answer
    /// with ASP.NET Core's AuthorizationMiddleware and token handler): one writer answers every refusal the same way.
    /// </summary>
    [Fact]
    public async Task EveryKindOfRequestIsAnsweredAsPinned()
    {
        var count = new HandlerCount();
        await using var factory = CountingHandlers(count);
        var expected = await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "Authentication", "PipelineAnswers.txt"));
        Assert.Equal(expected, await AnswersAsync(factory));
        Assert.Equal(0, count.Built); // the token handler is never built: the middleware checks, the one writer refuses
    }

    /// <summary>An endpoint without RequireRole is open to anyone: these, and only these, under /api.</summary>
    [Fact]
    public async Task OnlyTheSessionRoutesOfTheApiAreOpen()
    {
        await using var factory = new DotApiFactory();
        _ = factory.CreateClient();
        var open = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/", StringComparison.Ordinal)
                && e.Metadata.GetMetadata<RequiredRoleMetadata>() is null)
            .Select(e => string.Join('|', e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods) + " /" + e.RoutePattern.RawText!.TrimStart('/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(["GET /api/session/", "POST /api/session/setup", "POST /api/session/sign-in", "POST /api/session/sign-out"], open);
    }

    [Theory]
    [InlineData("RequireAuthorization or [Authorize]")]
    [InlineData("AllowAnonymous or [AllowAnonymous]")]
    [InlineData("a scope without a role")]
    public async Task AServerWithAnAuthorizationRuleItDoesNotEnforceDoesNotStart(string what)
    {
        await using var factory = new DotApiFactory().WithEndpoints(routes =>
        {
            var route = routes.MapGet("/api/test/foreign", () => TypedResults.Ok());
            _ = what switch
            {
                "RequireAuthorization or [Authorize]" => route.RequireAuthorization(),
                "AllowAnonymous or [AllowAnonymous]" => route.AllowAnonymous(),
                _ => route.RequireScope(Scopes.Profile),
            };
        });
        var refused = Assert.Throws<InvalidOperationException>(() => factory.CreateClient());
        Assert.Contains("/api/test/foreign", refused.Message, StringComparison.Ordinal);
        Assert.Contains(what, refused.Message, StringComparison.Ordinal);
    }

    private static async Task<List<string>> AnswersAsync(DotApiFactory factory)
    {
        var admin = await factory.CreateUserAsync("admin@example.com", Role.Admin);
        var user = await factory.CreateUserAsync("user@example.com");
        var (adminToken, _) = await factory.CreateTokenAsync(admin.Id, "admin");
        var (userToken, _) = await factory.CreateTokenAsync(user.Id, "user");
        var (profileOnly, _) = await factory.CreateTokenAsync(admin.Id, "profile", scopes: [Scopes.Profile]);
        var (syncOne, _) = await factory.CreateTokenAsync(admin.Id, "sync-one", scopes: ["sync:postgres/warehouse"]);
        var (elsewhere, _) = await factory.CreateTokenAsync(admin.Id, "elsewhere", allowedIps: ["192.0.2.0/24"]);

        (string? Token, string Method, string Path)[] requests =
        [
            (null, "GET", "/api/auth/me"),
            ("dot-not-a-token", "GET", "/api/auth/me"),
            (Tokens.TokenFormat.Generate(), "GET", "/api/auth/me"),
            (adminToken, "GET", "/api/auth/me"),
            (profileOnly, "GET", "/api/auth/me"),
            (null, "GET", $"/api/auth/me?api_token={userToken}&user_id={user.Id}"),
            (userToken, "GET", "/api/users"),
            (adminToken, "GET", "/api/users"),
            (profileOnly, "GET", "/api/users"),
            (userToken, "GET", "/api/tokens"),
            (profileOnly, "GET", "/api/tokens"),
            (syncOne, "GET", "/api/sync/runs/0199a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"),
            (syncOne, "POST", "/api/sync/postgres/other"),
            (userToken, "GET", "/api/connections"),
            (null, "GET", "/api/users"),
            (null, "GET", "/healthz/live"),
            (elsewhere, "GET", "/api/auth/me"),
            ("cookie", "GET", "/api/auth/me"),
            ("cookie", "GET", "/healthz/live"),
            ("cookie", "POST", "/api/session/sign-out"),
            (Tokens.TokenFormat.Generate(), "GET", "/healthz/live"),
        ];

        var answers = new List<string>();
        foreach (var (token, method, path) in requests)
        {
            var client = token is null or "cookie" ? factory.CreateClient() : factory.ClientWith(token);
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (token == "cookie")
            {
                request.Headers.Add("Cookie", "dot_session=not-a-session");
            }

            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var json = response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.Ordinal) == true && body.StartsWith('{')
                ? System.Text.Json.JsonDocument.Parse(body).RootElement : (System.Text.Json.JsonElement?)null;
            string? Field(string name) => json is { } j && j.TryGetProperty(name, out var v) ? v.ToString() : null;
            answers.Add($"{(int)response.StatusCode} {method} {path.Split('?')[0]} www-authenticate=[{string.Join(",", response.Headers.WwwAuthenticate)}] "
                + $"type={response.Content.Headers.ContentType?.MediaType} reason={Field("reason")} title={Field("title")} detail={Field("detail")} "
                + $"required_scope={Field("required_scope")} email={Field("email")} fields={(json is { ValueKind: System.Text.Json.JsonValueKind.Object } o ? string.Join(",", o.EnumerateObject().Select(p => p.Name)) : "")}");
        }

        return answers;
    }

    [Theory]
    [InlineData("/settings/users.js", true)]
    [InlineData("/favicon.svg", true)]
    [InlineData("/api/auth/me", false)]
    [InlineData("/settings/users", false)]
    [InlineData("/", false)]
    [InlineData("/a.b/c", false)]
    public void OnlyAPathWhoseLastSegmentHasADotLooksForAFile(string path, bool file)
        => Assert.Equal(file, Web.SettingsPage.NamesAFile(new Microsoft.AspNetCore.Http.PathString(path)));
}

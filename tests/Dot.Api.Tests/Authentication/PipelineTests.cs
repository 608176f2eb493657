using System.Net;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dot.Api.Tests;

/// <summary>
/// What the request pipeline runs for whom (issue #15): a request that carries no credential is not authenticated
/// at all, one that carries one is authenticated exactly once, and the branches for Swagger and the page's files are
/// entered only by their paths.
/// </summary>
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

        // The answer to a protected route without a credential is unchanged, and the token scheme gives it without a
        // handler (TokenSchemeRefusals): the challenge says what is missing.
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

    /// <summary>An authorization handler that decides nothing: registered, it sends every request through the framework's AuthorizationMiddleware.</summary>
    private sealed class NeutralHandler : IAuthorizationHandler
    {
        public Task HandleAsync(AuthorizationHandlerContext context) => Task.CompletedTask;
    }

    /// <summary>How many policy evaluators were built: the framework's AuthorizationMiddleware asks for one per request it judges.</summary>
    private static DotApiFactory CountingEvaluators(HandlerCount handlers, HandlerCount evaluators)
        => CountingHandlers(handlers).WithServices(s => s.AddTransient<IPolicyEvaluator>(sp =>
        {
            evaluators.Add();
            return ActivatorUtilities.CreateInstance<PolicyEvaluator>(sp);
        }));

    /// <summary>
    /// DotAuthorizationMiddleware and TokenSchemeRefusals answer every kind of request exactly as the framework's
    /// AuthorizationMiddleware, authentication service and token handler do — status, challenge header, body — and do it
    /// without them: the same requests against a server made to go the framework's way (a neutral authorization handler,
    /// no IAuthorizationRefusals) give the same answers, and only that server builds evaluators and handlers.
    /// </summary>
    [Fact]
    public async Task TheOwnAuthorizationAndRefusalsAnswerAsTheFrameworkDoes()
    {
        var (fastHandlers, fastEvaluators) = (new HandlerCount(), new HandlerCount());
        var (slowHandlers, slowEvaluators) = (new HandlerCount(), new HandlerCount());
        await using var fast = CountingEvaluators(fastHandlers, fastEvaluators);
        await using var framework = CountingEvaluators(slowHandlers, slowEvaluators).WithServices(s =>
        {
            s.AddSingleton<IAuthorizationHandler, NeutralHandler>();
            s.RemoveAll<IAuthorizationRefusals>();
        });

        var fastAnswers = await AnswersAsync(fast);
        var fastBuilt = (fastHandlers.Built, fastEvaluators.Built);
        var frameworkAnswers = await AnswersAsync(framework);

        Assert.Equal(frameworkAnswers, fastAnswers);
        Assert.Contains(fastAnswers, a => a.StartsWith("401 ", StringComparison.Ordinal));
        Assert.Contains(fastAnswers, a => a.Contains("insufficient_role", StringComparison.Ordinal));
        Assert.Contains(fastAnswers, a => a.Contains("insufficient_scope", StringComparison.Ordinal));

        // The evaluator the middleware looks at once when it starts; then nothing per request.
        Assert.Equal((0, 1), fastBuilt);
        Assert.True(slowHandlers.Built > 0 && slowEvaluators.Built > 5, $"the framework's way built {slowHandlers.Built} handlers, {slowEvaluators.Built} evaluators");
    }

    private static async Task<List<string>> AnswersAsync(DotApiFactory factory)
    {
        var admin = await factory.CreateUserAsync("admin@example.com", Role.Admin);
        var user = await factory.CreateUserAsync("user@example.com");
        var (adminToken, _) = await factory.CreateTokenAsync(admin.Id, "admin");
        var (userToken, _) = await factory.CreateTokenAsync(user.Id, "user");
        var (profileOnly, _) = await factory.CreateTokenAsync(admin.Id, "profile", scopes: [Scopes.Profile]);
        var (syncOne, _) = await factory.CreateTokenAsync(admin.Id, "sync-one", scopes: ["sync:postgres/warehouse"]);

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
        ];

        var answers = new List<string>();
        foreach (var (token, method, path) in requests)
        {
            var client = token is null ? factory.CreateClient() : factory.ClientWith(token);
            using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            var body = await response.Content.ReadAsStringAsync();
            var json = response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.Ordinal) == true && body.StartsWith('{')
                ? System.Text.Json.JsonDocument.Parse(body).RootElement : (System.Text.Json.JsonElement?)null;
            string? Field(string name) => json is { } j && j.TryGetProperty(name, out var v) ? v.ToString() : null;
            answers.Add($"{(int)response.StatusCode} {method} {path.Split('?')[0]} www-authenticate=[{string.Join(",", response.Headers.WwwAuthenticate)}] "
                + $"type={response.Content.Headers.ContentType?.MediaType} reason={Field("reason")} title={Field("title")} detail={Field("detail")} "
                + $"required_scope={Field("required_scope")} email={Field("email")}");
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

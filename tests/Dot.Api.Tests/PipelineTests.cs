using System.Net;
using Dot.Api.Authentication;
using Dot.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

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

        // The answer to a protected route without a credential is unchanged: the challenge (one handler) says what is missing.
        var missing = await client.GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("missing_credentials", (await missing.JsonAsync()).GetProperty("reason").GetString());
        Assert.Equal(1, count.Built);
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
        Assert.Equal(before + 1, count.Built); // the challenge's handler, which answers from the middleware's verdict
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(good).GetAsync("/api/auth/me")).StatusCode);
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

using System.Net;
using Dot.Api.Authentication;
using Dot.Api.Logging;
using Dot.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

#pragma warning disable CA1848, CA1873 // the test plays careless code that logs with extension methods

namespace Dot.Api.Tests;

/// <summary>API.md §3: a token in the URL never reaches a log, at any level, the framework's lines included.</summary>
public sealed class LogRedactionTests
{
    [Fact]
    public async Task NoUrlTokenReachesAnyLogAtTrace()
    {
        await using var factory = new DotApiFactory()
            .WithTraceLogging()
            .WithEndpoints(routes =>
            {
                routes.MapPost("/api/test/query-probe", () => TypedResults.Ok())
                    .RequireAuthorization(Policies.AnyUser)
                    .AllowApiTokenInQuery();
                routes.MapGet("/api/test/throws", (HttpContext context) =>
                {
                    // What careless code does: put the request URL in an exception.
                    throw new InvalidOperationException($"could not handle {context.Request.Path}{context.Request.QueryString}");
                }).AllowApiTokenInQuery().AllowAnonymous();
                routes.MapGet("/api/test/logs-url", (HttpContext context, ILoggerFactory loggers) =>
                {
                    loggers.CreateLogger("Careless").LogInformation("Serving {Url}", context.Request.QueryString.Value);
                    loggers.CreateLogger("Careless").LogWarning("Full URL {Url}", $"{context.Request.Path}{context.Request.QueryString}");
                    using (loggers.CreateLogger("Careless").BeginScope("query {Query}", context.Request.QueryString.Value!))
                    {
                        loggers.CreateLogger("Careless").LogDebug("inside a scope");
                    }

                    return TypedResults.Ok();
                }).AllowAnonymous();
            });
        var (user, token, _) = await factory.CreateCallerAsync("logs@example.com");
        var unknown = TokenFormat.Generate();
        var client = factory.CreateClient();

        var responses = new List<HttpResponseMessage>
        {
            await client.PostAsync($"/api/test/query-probe?user_id={user.Email}&api_token={token}", null),
            await client.PostAsync($"/api/test/query-probe?api_token={unknown}&user_id={user.Email}", null),
            await client.PostAsync($"/api/test/query-probe?user_id=someone-else@example.com&api_token={token}", null),
            await client.GetAsync($"/api/auth/me?user_id={user.Email}&api_token={token}"),
            await client.GetAsync($"/api/no-such-route?api_token={token}"),
            await client.GetAsync($"/api/test/throws?api_token={token}&user_id={user.Email}"),
            await client.GetAsync($"/api/test/logs-url?API_TOKEN={token}"),
            await client.GetAsync($"/api/test/logs-url?x=1&api_token%3D{token}"),
            await client.GetAsync($"/healthz?api_token={token}"),
        };

        Assert.Equal(HttpStatusCode.OK, responses[0].StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, responses[5].StatusCode);
        var logs = factory.Logs.AllText;
        Assert.Contains("Request starting", logs, StringComparison.Ordinal); // the framework's own line was captured…
        Assert.Contains("api_token=" + SecretRedactor.Mask, logs, StringComparison.Ordinal); // …with the token masked
        Assert.Contains("could not handle", logs, StringComparison.Ordinal); // the exception was logged, redacted
        foreach (var secret in new[] { token, unknown })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(secret[4..], logs, StringComparison.OrdinalIgnoreCase);
        }

        foreach (var response in responses)
        {
            Assert.DoesNotContain(token, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task HeaderTokensAndRefusalsAreNotLoggedEither()
    {
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, token, client) = await factory.CreateCallerAsync("h@example.com");
        await client.GetAsync("/api/auth/me");
        var typo = token[..30] + (token[30] == '0' ? '1' : '0') + token[31..];
        await factory.ClientWith(typo).GetAsync("/api/auth/me");

        var logs = factory.Logs.AllText;
        Assert.DoesNotContain(token[4..], logs, StringComparison.Ordinal);
        Assert.DoesNotContain(typo[4..], logs, StringComparison.Ordinal);
        Assert.Contains("malformed_token", logs, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET /api/sync?api_token=abc&user_id=x", "GET /api/sync?api_token=[REDACTED]&user_id=x")]
    [InlineData("?API_TOKEN=abc", "?API_TOKEN=[REDACTED]")]
    [InlineData("q=api_token%3Dabc%26x", "q=api_token%3D[REDACTED]")]
    [InlineData("plain text", "plain text")]
    public void RedactorMasksUrlTokens(string input, string expected)
        => Assert.Equal(expected, SecretRedactor.Redact(input));

    [Fact]
    public void RedactorMasksBareTokens()
    {
        var token = TokenFormat.Generate();
        Assert.Equal("key dot-[REDACTED] end", SecretRedactor.Redact($"key {token} end"));
    }
}

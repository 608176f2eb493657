using System.Net;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Logging;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

#pragma warning disable CA1848, CA1873 // the test plays careless code that logs with extension methods

namespace Dot.Api.Tests;

/// <summary>API.md §3: a token in the URL never reaches a log, at any level, the framework's lines included.</summary>
[Trait("Store", "any")] // what reaches the logs; nothing of it is the store's
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
                    .RequireRole(Role.User)
                    .AllowApiTokenInQuery();
                routes.MapGet("/api/test/throws", (HttpContext context) =>
                {
                    // What careless code does: put the request URL in an exception.
                    throw new InvalidOperationException($"could not handle {context.Request.Path}{context.Request.QueryString}");
                }).AllowApiTokenInQuery();
                routes.MapGet("/api/test/logs-url", (HttpContext context, ILoggerFactory loggers) =>
                {
                    loggers.CreateLogger("Careless").LogInformation("Serving {Url}", context.Request.QueryString.Value);
                    loggers.CreateLogger("Careless").LogWarning("Full URL {Url}", $"{context.Request.Path}{context.Request.QueryString}");
                    using (loggers.CreateLogger("Careless").BeginScope("query {Query}", context.Request.QueryString.Value!))
                    {
                        loggers.CreateLogger("Careless").LogDebug("inside a scope");
                    }

                    return TypedResults.Ok();
                });
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

    /// <summary>
    /// The handler reads api_token percent-decoded (API.md §3), so the redaction must too: the key and the
    /// value encoded one character at a time, all characters, in either hex case, with + and %20 around them.
    /// </summary>
    [Fact]
    public async Task PercentEncodedUrlTokensNeverReachAnyLogAtTrace()
    {
        await using var factory = new DotApiFactory()
            .WithTraceLogging()
            .WithEndpoints(routes => routes.MapPost("/api/test/encoded-probe", () => TypedResults.Text("in"))
                .RequireRole(Role.User)
                .AllowApiTokenInQuery());
        var user = await factory.CreateUserAsync("enc@example.com", Role.Modeler);
        var tokens = new List<string>();
        async Task<string> Fresh()
        {
            var (token, _) = await factory.CreateTokenAsync(user.Id, $"t{tokens.Count}");
            tokens.Add(token);
            return token;
        }

        static string All(string text, bool upper = false)
            => string.Concat(text.Select(c => "%" + ((int)c).ToString(upper ? "X2" : "x2", System.Globalization.CultureInfo.InvariantCulture)));
        var email = Uri.EscapeDataString(user.Email);

        // HttpClient's Uri would unescape %5F and %64 before sending; curl does not. Send the query string as written.
        async Task<HttpStatusCode> Send(string method, string path, string query)
        {
            var context = await factory.Server.SendAsync(c =>
            {
                c.Request.Method = method;
                c.Request.Path = path;
                c.Request.QueryString = new QueryString("?" + query);
            });
            return (HttpStatusCode)context.Response.StatusCode;
        }

        // Each of these the handler accepts: the redaction has to see what it sees.
        var accepted = new List<string>
        {
            $"user_id={email}&api%5Ftoken=%64{(await Fresh())[1..]}",
            $"user_id={email}&api%5ftoken={(await Fresh()).Replace("-", "%2D", StringComparison.Ordinal)}",
            $"{All("api_token")}={All(await Fresh())}&user_id={email}",
            $"{All("API_TOKEN", upper: true)}={All(await Fresh(), upper: true)}&user_id={email}",
            $"user_id={email}&API%5FToken={string.Concat((await Fresh()).Select((c, i) => i % 2 == 0 ? All(c.ToString()) : c.ToString()))}",
        };
        foreach (var query in accepted)
        {
            Assert.Equal(HttpStatusCode.OK, await Send("POST", "/api/test/encoded-probe", query));
        }

        Assert.Equal(HttpStatusCode.OK, await Send("GET", "/api/export_history", $"format=ndjson&user_id={email}&api%5Ftoken={All(await Fresh())}"));

        // Refused, but still secrets: spaces (+, %20) around the key or the value, an unknown encoded token.
        var refused = new[]
        {
            $"user_id={email}&api_token=+{await Fresh()}",
            $"user_id={email}&api_token=%20{All(await Fresh())}%20",
            $"user_id={email}&+api%5Ftoken+={await Fresh()}",
            $"user_id={email}&%20api_token%20={All(await Fresh())}",
            $"api%5Ftoken={All(await Fresh())}", // no user_id
        };
        foreach (var query in refused)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await Send("POST", "/api/test/encoded-probe", query));
        }

        var unknown = TokenFormat.Generate();
        Assert.Equal(HttpStatusCode.Unauthorized, await Send("POST", "/api/test/encoded-probe", $"user_id={email}&api%5Ftoken={All(unknown)}"));
        Assert.Equal(HttpStatusCode.Unauthorized, await Send("GET", "/api/auth/me", $"{All("api_token")}={All(await Fresh())}"));
        tokens.Add(unknown);

        var logs = factory.Logs.AllText;
        Assert.Contains("Request starting", logs, StringComparison.Ordinal);
        foreach (var token in tokens)
        {
            // No 12 consecutive random digits of any token, plain or encoded, in any line.
            var random = token[4..];
            for (var i = 0; i + 12 <= random.Length; i += 4)
            {
                var digits = random.Substring(i, 12);
                Assert.DoesNotContain(digits, logs, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(All(digits), logs, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Theory]
    [InlineData("GET /x?api%5Ftoken=%64ot-abc&user_id=x", "GET /x?api%5Ftoken=[REDACTED]&user_id=x")]
    [InlineData("GET /x?%61pi_tok%65n=abc", "GET /x?%61pi_tok%65n=[REDACTED]")]
    [InlineData("GET /x?+api_token+=abc", "GET /x?+api_token+=[REDACTED]")]
    [InlineData("GET /x?%20api_token%20=abc&b=1", "GET /x?%20api_token%20=[REDACTED]&b=1")]
    [InlineData("next=%2Fsync%3Fapi_token%3Dabc", "next=%2Fsync%3Fapi_token%3D[REDACTED]")]
    [InlineData("q=x%26api_token%3Dabc", "q=x%26api_token%3D[REDACTED]")]
    [InlineData("x=100%25&y=2", "x=100%25&y=2")]
    public void RedactorReadsKeysPercentDecoded(string input, string expected)
        => Assert.Equal(expected, SecretRedactor.Redact(input));

    [Fact]
    public void RedactorMasksPercentEncodedTokens()
    {
        var token = TokenFormat.Generate();
        var encoded = string.Concat(token.Select(c => "%" + ((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("/p/dot-[REDACTED]/q", SecretRedactor.Redact($"/p/{encoded}/q"));
        Assert.Equal("a dot-[REDACTED] b", SecretRedactor.Redact($"a %64ot-{token[4..]} b"));
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

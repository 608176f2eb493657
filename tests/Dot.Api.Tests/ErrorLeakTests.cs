using System.Net;
using Dot.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dot.Api.Tests;

/// <summary>In Production an unexpected failure answers a bare problem-details 500 with a trace id.</summary>
public sealed class ErrorLeakTests
{
    [Fact]
    public async Task UnhandledExceptionInProductionRevealsNothing()
    {
        await using var factory = new DotApiFactory()
            .WithEnvironment("Production")
            .WithEndpoints(routes => routes.MapGet("/api/test/boom", (HttpContext context) =>
            {
                throw new InvalidOperationException(
                    $"SELECT * FROM users WHERE secret = '{context.Request.Headers["API-KEY"]}' failed at /srv/dot/secret.cs");
            }));
        var (_, token, client) = await factory.CreateCallerAsync("boom@example.com");

        var response = await client.GetAsync("/api/test/boom");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        var json = await response.JsonAsync();
        Assert.False(string.IsNullOrEmpty(json.GetProperty("trace_id").GetString()));
        Assert.Equal(["status", "title", "trace_id", "type"], json.EnumerateObject().Select(p => p.Name).Order().ToArray());
        foreach (var leak in new[] { "SELECT", "InvalidOperationException", "secret.cs", " at ", token, token[4..] })
        {
            Assert.DoesNotContain(leak, body, StringComparison.Ordinal);
        }

        var logs = factory.Logs.AllText;
        Assert.Contains("InvalidOperationException", logs, StringComparison.Ordinal); // operators still learn what happened…
        Assert.DoesNotContain(token[4..], logs, StringComparison.Ordinal); // …without the token
    }
}

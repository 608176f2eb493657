using System.Net;
using Dot.Api.Authentication;
using Dot.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;

namespace Dot.Api.Tests;

/// <summary>API.md §7: failed authentication is throttled per client address, on a fake clock.</summary>
public sealed class ThrottleTests
{
    private static async Task<HttpContext> SendAsync(DotApiFactory factory, string address, string? token, string? forwardedFor = null)
    {
        _ = factory.Server; // start the host
        return await factory.Server.SendAsync(context =>
        {
            context.Request.Method = "GET";
            context.Request.Path = "/api/auth/me";
            context.Connection.RemoteIpAddress = IPAddress.Parse(address);
            if (token is not null)
            {
                context.Request.Headers["API-KEY"] = token;
            }

            if (forwardedFor is not null)
            {
                context.Request.Headers["X-Forwarded-For"] = forwardedFor;
            }
        });
    }

    [Fact]
    public async Task PastTheLimitEveryCredentialGets429UntilTheWindowEnds()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Auth:MaxFailuresPerMinute", "5");
        var (_, good, _) = await factory.CreateCallerAsync("victim@example.com");
        var bad = TokenFormat.Generate();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(401, (await SendAsync(factory, "203.0.113.7", bad)).Response.StatusCode);
        }

        Assert.Equal(401, (await SendAsync(factory, "203.0.113.7", bad)).Response.StatusCode); // the 6th failure passes the limit
        var throttled = await SendAsync(factory, "203.0.113.7", good);
        Assert.Equal(429, throttled.Response.StatusCode); // a correct token does not get through
        Assert.Equal("60", throttled.Response.Headers.RetryAfter.ToString());
        Assert.Equal(200, (await SendAsync(factory, "198.51.100.1", good)).Response.StatusCode); // other addresses are unaffected
        Assert.Equal(401, (await SendAsync(factory, "203.0.113.7", null)).Response.StatusCode); // no credential: not throttled, just refused

        factory.Time.Advance(TimeSpan.FromSeconds(45));
        var later = await SendAsync(factory, "203.0.113.7", good);
        Assert.Equal(429, later.Response.StatusCode);
        Assert.Equal("15", later.Response.Headers.RetryAfter.ToString());

        factory.Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(200, (await SendAsync(factory, "203.0.113.7", good)).Response.StatusCode);
    }

    [Fact]
    public async Task RequestsWithoutCredentialsAreNotFailures()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Auth:MaxFailuresPerMinute", "2");
        var (_, good, _) = await factory.CreateCallerAsync("u@example.com");

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(401, (await SendAsync(factory, "203.0.113.9", null)).Response.StatusCode);
        }

        Assert.Equal(200, (await SendAsync(factory, "203.0.113.9", good)).Response.StatusCode);
    }

    [Fact]
    public async Task SpoofedForwardedForChangesNothingWithoutAKnownProxy()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Auth:MaxFailuresPerMinute", "3");
        var (_, good, _) = await factory.CreateCallerAsync("u@example.com");
        var bad = TokenFormat.Generate();

        for (var i = 0; i < 4; i++)
        {
            // An attacker rotating X-Forwarded-For to look like many clients…
            await SendAsync(factory, "203.0.113.20", bad, forwardedFor: $"10.0.0.{i}");
        }

        // …is still one address, and throttled.
        Assert.Equal(429, (await SendAsync(factory, "203.0.113.20", good, forwardedFor: "10.0.0.99")).Response.StatusCode);
    }

    [Fact]
    public async Task AKnownProxysForwardedForIsTheClientAddress()
    {
        await using var factory = new DotApiFactory()
            .WithSetting("Dot:Auth:MaxFailuresPerMinute", "3")
            .WithSetting("Dot:ForwardedHeaders:KnownProxies", "192.0.2.1");
        var (_, good, _) = await factory.CreateCallerAsync("u@example.com");
        var bad = TokenFormat.Generate();

        for (var i = 0; i < 4; i++)
        {
            await SendAsync(factory, "192.0.2.1", bad, forwardedFor: "203.0.113.50");
        }

        Assert.Equal(429, (await SendAsync(factory, "192.0.2.1", good, forwardedFor: "203.0.113.50")).Response.StatusCode);
        Assert.Equal(200, (await SendAsync(factory, "192.0.2.1", good, forwardedFor: "203.0.113.51")).Response.StatusCode); // another client behind the same proxy
    }
}

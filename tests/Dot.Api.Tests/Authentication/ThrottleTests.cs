using System.Net;
using Dot.Api.Authentication;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>API.md §7: IPv6 is counted per /64, so the 2^64 addresses of one prefix are one budget.</summary>
    [Fact]
    public async Task IPv6ClientsAreCountedPerSlash64()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Auth:MaxFailuresPerMinute", "5");
        var (_, good, _) = await factory.CreateCallerAsync("v6@example.com");
        var bad = TokenFormat.Generate();

        for (var i = 1; i <= 6; i++)
        {
            // A fresh interface id each time, all in 2001:db8:1:2::/64.
            Assert.Equal(401, (await SendAsync(factory, $"2001:db8:1:2:{i:x}:{i * 7:x}:{i * 13:x}:{i * 31:x}", bad)).Response.StatusCode);
        }

        Assert.Equal(429, (await SendAsync(factory, "2001:db8:1:2:ffff:ffff:ffff:fffe", good)).Response.StatusCode);
        Assert.Equal(200, (await SendAsync(factory, "2001:db8:1:3::1", good)).Response.StatusCode); // the next /64 is another client
        Assert.Equal(200, (await SendAsync(factory, "203.0.113.7", good)).Response.StatusCode);
    }

    /// <summary>
    /// API.md §7: the memory is bounded for real. A flood from far more addresses than the bound, all within one
    /// window, keeps the map at its bound; a client already throttled stays throttled; the flood itself is limited.
    /// </summary>
    [Fact]
    public async Task AFloodFromEndlessAddressesStaysWithinTheBoundAndIsStillThrottled()
    {
        await using var factory = new DotApiFactory()
            .WithSetting("Dot:Auth:MaxFailuresPerMinute", "3")
            .WithSetting("Dot:Auth:MaxTrackedAddresses", "100");
        var (_, good, _) = await factory.CreateCallerAsync("flood@example.com");
        var bad = TokenFormat.Generate();
        var throttle = factory.Services.GetRequiredService<FailureThrottle>();
        for (var i = 0; i < 4; i++)
        {
            await SendAsync(factory, "198.51.100.66", bad);
        }

        Assert.Equal(429, (await SendAsync(factory, "198.51.100.66", good)).Response.StatusCode);

        var peak = 0;
        for (var i = 0; i < 3000; i++)
        {
            await SendAsync(factory, $"10.{i / 65536}.{i / 256 % 256}.{i % 256}", bad);
            peak = Math.Max(peak, throttle.TrackedClients);
        }

        Assert.InRange(peak, 1, 100);
        Assert.Equal(429, (await SendAsync(factory, "198.51.100.66", good)).Response.StatusCode); // never forgotten while throttled
        for (var i = 0; i < 120; i++)
        {
            // Fill the map with throttled clients only: past that, new addresses share one overflow budget.
            for (var n = 0; n < 4; n++)
            {
                await SendAsync(factory, $"2001:db8:{i:x}::1", bad);
            }
        }

        Assert.InRange(throttle.TrackedClients, 1, 100);
        Assert.Equal(429, (await SendAsync(factory, "2001:db8:ffff::1", good)).Response.StatusCode); // an untracked client of the flood
        factory.Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(200, (await SendAsync(factory, "2001:db8:ffff::1", good)).Response.StatusCode);
        Assert.Equal(200, (await SendAsync(factory, "198.51.100.66", good)).Response.StatusCode);
    }
}

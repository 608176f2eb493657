using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dot.Api.Audit;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>API.md §2: a token's allowed_ips, checked on the client address after the trusted forwarded headers.</summary>
[Trait("Store", "any")] // address matching in memory; the list is a text column read back by TokensApiTests on both stores
public sealed class AllowedIpsTests
{
    private static async Task<HttpContext> SendAsync(DotApiFactory factory, string address, string token, string? forwardedFor = null)
    {
        _ = factory.Server;
        return await factory.Server.SendAsync(context =>
        {
            context.Request.Method = "GET";
            context.Request.Path = "/api/auth/me";
            context.Connection.RemoteIpAddress = IPAddress.Parse(address);
            context.Request.Headers["API-KEY"] = token;
            if (forwardedFor is not null)
            {
                context.Request.Headers["X-Forwarded-For"] = forwardedFor;
            }
        });
    }

    private static async Task<string?> ReasonAsync(HttpContext context)
    {
        return context.Response.StatusCode == 200 ? null
            : (await JsonDocument.ParseAsync(context.Response.Body)).RootElement.GetProperty("reason").GetString();
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7", true)]
    [InlineData("203.0.113.7", "203.0.113.8", false)]
    [InlineData("10.0.0.0/8", "10.200.3.4", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)] // an IPv4-mapped client is its IPv4 address
    [InlineData("2001:db8::/32", "2001:db8:1::5", true)]
    [InlineData("2001:db8::/32", "2001:db9::5", false)]
    [InlineData("2001:db8::1", "2001:db8::1", true)]
    [InlineData("2001:db8::1", "2001:db8::2", false)]
    [InlineData("2001:db8::/32", "10.0.0.1", false)]
    [InlineData("0.0.0.0/0", "198.51.100.1", true)] // every IPv4 client
    [InlineData("0.0.0.0/0", "::ffff:127.0.0.1", true)] // an IPv4-mapped client counts as IPv4
    [InlineData("0.0.0.0/0", "::1", false)]
    [InlineData("::/0", "2001:db8::5", true)] // every IPv6 client
    [InlineData("::/0", "::1", true)]
    [InlineData("::/0", "127.0.0.1", false)] // … and no IPv4 one
    [InlineData("::/0", "::ffff:127.0.0.1", false)]
    public async Task OnlyAllowedAddressesAuthenticate(string allowed, string client, bool admitted)
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("u@example.com");
        var (token, _) = await factory.CreateTokenAsync(user.Id, allowedIps: [allowed]);
        var response = await SendAsync(factory, client, token);
        Assert.Equal(admitted ? 200 : 403, response.Response.StatusCode);
        Assert.Equal(admitted ? null : "ip_not_allowed", await ReasonAsync(response));
    }

    /// <summary>API.md §2: entries are dotted-quad IPv4 or RFC 4291 IPv6 with an optional /prefix, nothing IPAddress.TryParse merely tolerates.</summary>
    [Theory]
    [InlineData("127.1")]
    [InlineData("0x7f.1")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("2130706437")]
    [InlineData("127.0.1")]
    [InlineData("017.0.0.1")] // a leading zero: octal to some readers
    [InlineData("10.0.0.01")]
    [InlineData("1.2.3.256")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3.")]
    [InlineData("+1.2.3.4")]
    [InlineData("1 .2.3.4")]
    [InlineData("127.1/32")]
    [InlineData("0x0a.0.0.0/8")]
    [InlineData("012.0.0.0/8")]
    [InlineData("10.0.0.0/08")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.0.0.0/ 8")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.1/8")]
    [InlineData("[::1]")]
    [InlineData("[::1]:443")]
    [InlineData("fe80::1%eth0")]
    [InlineData("fe80::1%1")]
    [InlineData("2001:db8::12345")]
    [InlineData("2001:db8::1::2")]
    [InlineData("2001:db8:::1")]
    [InlineData("::ffff:127.1")]
    [InlineData("::ffff:0x7f.0.0.1")]
    [InlineData("::ffff:127.000.0.1")]
    [InlineData("2001:db8::/0032")]
    [InlineData("2001:db8::/129")]
    [InlineData("localhost")]
    [InlineData("")]
    public void NonCanonicalAddressesAreNotAllowedIps(string entry)
        => Assert.False(AllowedIps.TryParseOne(entry, out _), entry);

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1/32")]
    [InlineData("0.0.0.0", "0.0.0.0/32")]
    [InlineData("255.255.255.255", "255.255.255.255/32")]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("203.0.113.0/24", "203.0.113.0/24")]
    [InlineData("::1", "::1/128")]
    [InlineData("::", "::/128")]
    [InlineData("::/0", "::/0")]
    [InlineData("2001:DB8::/32", "2001:db8::/32")]
    [InlineData("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128")]
    [InlineData("fd20:ce::254", "fd20:ce::254/128")]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3/32")]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.0/8")]
    [InlineData("64:ff9b::192.0.2.33", "64:ff9b::c000:221/128")]
    [InlineData(" 10.0.0.0/8 ", "10.0.0.0/8")]
    public void CanonicalAddressesAreAllowedIps(string entry, string stored)
    {
        Assert.True(AllowedIps.TryParseOne(entry, out var network), entry);
        Assert.Equal(stored, network.ToString());
    }

    [Theory]
    [InlineData("127.1")]
    [InlineData("0x7f.1")]
    [InlineData("2130706437")]
    [InlineData("10.0.0.0/08")]
    [InlineData("[::1]")]
    public async Task ANonCanonicalAllowedIpIs422AndMintsNothing(string entry)
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("u@example.com");

        var response = await client.PostAsJsonAsync("/api/tokens", new { name = "fenced", allowed_ips = new[] { "203.0.113.0/24", entry } });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync())).RootElement.GetProperty("errors");
        Assert.Contains(entry, Assert.Single(errors.GetProperty("allowed_ips").EnumerateArray()).GetString(), StringComparison.Ordinal);
        var list = await JsonDocument.ParseAsync(await (await client.GetAsync("/api/tokens")).Content.ReadAsStreamAsync());
        Assert.DoesNotContain(list.RootElement.GetProperty("items").EnumerateArray(), t => t.GetProperty("name").GetString() == "fenced");
    }

    [Fact]
    public async Task ARefusedAddressCountsAsAFailureAndUpdatesNoLastUse()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Auth:MaxFailuresPerMinute", "2");
        var (admin, _, adminClient) = await factory.CreateCallerAsync("admin@example.com", Dot.Api.Access.Role.Admin);
        var (token, id) = await factory.CreateTokenAsync(admin.Id, "fenced", allowedIps: ["198.51.100.0/24"]);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(403, (await SendAsync(factory, "203.0.113.66", token)).Response.StatusCode);
        }

        Assert.Equal(429, (await SendAsync(factory, "203.0.113.66", token)).Response.StatusCode); // throttled like any failure
        await factory.FlushTokenUsageAsync();
        await factory.Services.GetRequiredService<AuthFailureAudit>().FlushAsync(CancellationToken.None);
        var list = await (await adminClient.GetAsync("/api/tokens")).JsonAsync();
        var row = list.GetProperty("items").EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == id);
        Assert.Equal(JsonValueKind.Null, row.GetProperty("last_used_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, row.GetProperty("last_used_ip").ValueKind);
        var failures = await (await adminClient.GetAsync("/api/audit_events?type=auth.failed")).JsonAsync();
        Assert.Contains(failures.GetProperty("items").EnumerateArray(), e => e.GetProperty("detail").GetString() == "ip_not_allowed");

        Assert.Equal(200, (await SendAsync(factory, "198.51.100.4", token)).Response.StatusCode);
        await factory.FlushTokenUsageAsync();
        list = await (await adminClient.GetAsync("/api/tokens")).JsonAsync();
        row = list.GetProperty("items").EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == id);
        Assert.Equal("198.51.100.4", row.GetProperty("last_used_ip").GetString());
    }

    [Fact]
    public async Task AKnownProxysForwardedForIsBelievedAndASpoofedOneIsNot()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:ForwardedHeaders:KnownProxies", "192.0.2.1");
        var user = await factory.CreateUserAsync("u@example.com");
        var (token, _) = await factory.CreateTokenAsync(user.Id, allowedIps: ["203.0.113.0/24"]);

        Assert.Equal(200, (await SendAsync(factory, "192.0.2.1", token, forwardedFor: "203.0.113.5")).Response.StatusCode);
        Assert.Equal(403, (await SendAsync(factory, "192.0.2.1", token, forwardedFor: "198.51.100.5")).Response.StatusCode);

        // From an unknown proxy, X-Forwarded-For is not believed: the address is the connection's.
        var spoofed = await SendAsync(factory, "198.51.100.9", token, forwardedFor: "203.0.113.5");
        Assert.Equal(403, spoofed.Response.StatusCode);
        Assert.Equal("ip_not_allowed", await ReasonAsync(spoofed));
    }
}

using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Dot.Api.Infrastructure;

/// <summary>
/// The client address is the connection's, unless the connection is a proxy named in
/// <c>Dot:ForwardedHeaders:KnownProxies</c>; nobody else's <c>X-Forwarded-For</c> is believed. Throttling, the audit and
/// last-used data all read the address this gives.
/// </summary>
public static class ForwardedHeadersExtensions
{
    public const string KnownProxiesKey = "Dot:ForwardedHeaders:KnownProxies";

    public static IServiceCollection AddTrustedForwardedHeaders(this IServiceCollection services, IConfiguration configuration)
    {
        var proxies = configuration.GetSection(KnownProxiesKey).Get<string[]>()
            ?? (configuration[KnownProxiesKey]?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            ?? [];
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            o.ForwardLimit = 1;
            foreach (var proxy in proxies)
            {
                o.KnownProxies.Add(IPAddress.TryParse(proxy, out var address)
                    ? address
                    : throw new InvalidOperationException($"{KnownProxiesKey}: '{proxy}' is not an IP address."));
            }
        });
        return services;
    }

    /// <summary>
    /// Whether the request comes from this machine (API.md §5), the one test of it: the client address, after the
    /// known proxies' headers were applied, is a loopback address, and no <c>X-Forwarded-For</c> or <c>Forwarded</c> is
    /// left on the request. A known proxy's <c>X-Forwarded-For</c> is consumed by the middleware (and the address is
    /// then the proxy's client's); one still present came from a peer that is not a known proxy — something between
    /// the client and this server, on this machine or not — so the request is not a loopback request. <c>Forwarded</c>
    /// (RFC 7239) is never applied, so it always means a proxy.
    /// </summary>
    public static bool IsLoopbackRequest(this HttpContext context)
        => !context.Request.Headers.ContainsKey(ForwardedHeadersDefaults.XForwardedForHeaderName)
            && !context.Request.Headers.ContainsKey(ForwardedHeaderName)
            && context.Connection.RemoteIpAddress is { } ip
            && IPAddress.IsLoopback(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip);

    private const string ForwardedHeaderName = "Forwarded";

    /// <summary>First in the pipeline: the client address and scheme as the configured proxy saw them.</summary>
    public static IApplicationBuilder UseTrustedForwardedHeaders(this IApplicationBuilder app)
    {
        // With no known proxy the middleware would believe every X-Forwarded-For: leave it out.
        return app.ApplicationServices.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value.KnownProxies.Count > 0
            ? app.UseForwardedHeaders()
            : app;
    }
}

using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Dot.Api.Authentication;

/// <summary>
/// Answers 429 with <c>Retry-After</c> to a throttled address before any credential of it is
/// looked at, so a correct guess does not get through while throttled (API.md §7).
/// </summary>
internal sealed class ThrottleMiddleware(RequestDelegate next, FailureThrottle throttle, IOptionsMonitor<ApiTokenOptions> tokenOptions)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!throttle.Enabled || !CarriesCredential(context.Request)
            || throttle.RetryAfterSeconds(context.Connection.RemoteIpAddress) is not { } retryAfter)
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Title = "Too many failed authentications.",
            Detail = $"Too many refused credentials from this address; try again in {retryAfter} seconds.",
        };
        problem.Extensions["reason"] = "throttled";
        return problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }

    private bool CarriesCredential(HttpRequest request)
    {
        var options = tokenOptions.Get(ApiTokenDefaults.AuthenticationScheme);
        foreach (var header in options.HeaderNames)
        {
            if (request.Headers.ContainsKey(header))
            {
                return true;
            }
        }

        return QueryCredential.Find(request.QueryString, options.QueryTokenParameter) is not null;
    }
}

public static class ThrottleExtensions
{
    public static IServiceCollection AddAuthenticationThrottle(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ThrottleOptions>().Bind(configuration.GetSection(ThrottleOptions.Section))
            .Validate(o => o.MaxFailuresPerMinute >= 1 && o.FailureWindowSeconds >= 1 && o.MaxTrackedAddresses >= 10,
                "Dot:Auth: MaxFailuresPerMinute and FailureWindowSeconds must be at least 1, MaxTrackedAddresses at least 10.")
            .ValidateOnStart();
        services.AddSingleton<FailureThrottle>();

        // The client address is the connection's, unless the connection is a proxy named in
        // Dot:ForwardedHeaders:KnownProxies; nobody else's X-Forwarded-For is believed.
        var proxies = configuration.GetSection("Dot:ForwardedHeaders:KnownProxies").Get<string[]>()
            ?? (configuration["Dot:ForwardedHeaders:KnownProxies"]?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
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
                    : throw new InvalidOperationException($"Dot:ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address."));
            }
        });
        return services;
    }

    /// <summary>First in the pipeline: the client address and scheme as the configured proxy saw them.</summary>
    public static IApplicationBuilder UseTrustedForwardedHeaders(this IApplicationBuilder app)
    {
        // With no known proxy the middleware would believe every X-Forwarded-For: leave it out.
        return app.ApplicationServices.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value.KnownProxies.Count > 0
            ? app.UseForwardedHeaders()
            : app;
    }

    public static IApplicationBuilder UseAuthenticationThrottle(this IApplicationBuilder app)
        => app.UseMiddleware<ThrottleMiddleware>();
}

using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.Extensions.Options;

namespace Dot.Api.Authentication;

/// <summary>
/// The throttle and authentication in one step, in place of ASP.NET Core's <c>UseAuthentication</c>: it reads the
/// request's credential once (<see cref="ApiTokenCredential"/>, the same reader as the handler's) and then
/// <list type="bullet">
/// <item>an API token from an address that is throttled gets <c>429</c> with <c>Retry-After</c> before the token is
/// looked at, so a correct guess does not get through while throttled (API.md §7);</item>
/// <item>an API token, or else a session cookie, is authenticated by its scheme (<see cref="Sessions.SessionExtensions.PresentedScheme"/>,
/// the same choice as the default scheme's), exactly as <c>AuthenticationMiddleware</c> does: the principal becomes
/// <c>HttpContext.User</c>, and a success is kept as <see cref="IAuthenticateResultFeature"/> for authorization;</item>
/// <item>a request with neither goes on as it came, anonymous: no handler is built, no request scope is opened. The
/// answer is the same as before (the default scheme finds nothing and its challenge says which credential is
/// missing), but an anonymous request no longer pays for authentication it cannot pass.</item>
/// </list>
/// </summary>
internal sealed class DotAuthenticationMiddleware(RequestDelegate next, FailureThrottle throttle, IOptionsMonitor<ApiTokenOptions> tokenOptions)
{
    public Task InvokeAsync(HttpContext context)
    {
        var credential = ApiTokenCredential.Read(context.Request, tokenOptions.Get(ApiTokenDefaults.AuthenticationScheme));
        if (credential.IsPresent && throttle.Enabled && throttle.RetryAfterSeconds(context.Connection.RemoteIpAddress) is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many failed authentications.",
                $"Too many refused credentials from this address; try again in {retryAfter} seconds.", "throttled");
        }

        return Sessions.SessionExtensions.PresentedScheme(context.Request, credential) is { } scheme
            ? AuthenticateAsync(context, scheme)
            : next(context);
    }

    private async Task AuthenticateAsync(HttpContext context, string scheme)
    {
        context.Features.Set<IAuthenticationFeature>(new AuthenticationFeature
        {
            OriginalPath = context.Request.Path,
            OriginalPathBase = context.Request.PathBase,
        });
        var result = await context.AuthenticateAsync(scheme);
        if (result.Principal is not null)
        {
            context.User = result.Principal;
        }

        if (result.Succeeded)
        {
            var authenticated = new AuthenticatedFeatures(result);
            context.Features.Set<IHttpAuthenticationFeature>(authenticated);
            context.Features.Set<IAuthenticateResultFeature>(authenticated);
        }

        await next(context);
    }

    /// <summary>What <c>AuthenticationMiddleware</c> sets on a success (its own class is internal to ASP.NET Core).</summary>
    private sealed class AuthenticatedFeatures(AuthenticateResult result) : IAuthenticateResultFeature, IHttpAuthenticationFeature
    {
        private AuthenticateResult? _result = result;

        public AuthenticateResult? AuthenticateResult
        {
            get => _result;
            set
            {
                _result = value;
                User = value?.Principal;
            }
        }

        public System.Security.Claims.ClaimsPrincipal? User { get; set; } = result.Principal;
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
        if (DataExtensions.Provider(configuration) == DatabaseProvider.Postgres)
        {
            // One budget for every instance on the database: counts go out and come in on a notification channel.
            services.AddSingleton<FailureSharing>();
            services.AddHostedService(sp => sp.GetRequiredService<FailureSharing>());
            services.AddSingleton<INotificationHandler>(sp => sp.GetRequiredService<FailureSharing>());
        }

        return services;
    }

    /// <summary>The throttle and authentication (<see cref="DotAuthenticationMiddleware"/>): use it where <c>UseAuthentication</c> would go.</summary>
    public static IApplicationBuilder UseDotAuthentication(this IApplicationBuilder app)
    {
        // What UseAuthentication sets: without it, WebApplication adds AuthenticationMiddleware itself, first in the
        // pipeline, and every request would be authenticated twice (once before the throttle).
        app.Properties[AuthenticationMiddlewareSetKey] = true;
        return app.UseMiddleware<DotAuthenticationMiddleware>();
    }

    /// <summary>The key of <c>IApplicationBuilder.Properties</c> that <c>UseAuthentication</c> sets and WebApplication reads.</summary>
    internal const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";
}

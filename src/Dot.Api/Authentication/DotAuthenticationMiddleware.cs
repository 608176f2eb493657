using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Dot.Api.Tokens;
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
/// <item>an API token is checked by <see cref="ApiTokenAttempt"/>, the scheme's own check with the scheme's options
/// and events, called here directly rather than through the authentication service, which would build a handler
/// and a service for the request around the same call (where a claims transformation is registered, or the scheme's
/// handler is not <see cref="ApiTokenHandler"/>, it goes through the service as before). The verdict is kept
/// (<see cref="AuthenticationDecision"/>) for the handler, which answers the challenge of a refusal from it;</item>
/// <item>a session cookie is authenticated by its scheme through the authentication service, as
/// <c>AuthenticationMiddleware</c> does;</item>
/// <item>a request with neither goes on as it came, anonymous: no handler is built, no request scope is opened. The
/// answer is the same as before (the default scheme finds nothing and its challenge says which credential is
/// missing), but an anonymous request no longer pays for authentication it cannot pass.</item>
/// </list>
/// Either way the principal becomes <c>HttpContext.User</c>, and a success is kept as ASP.NET Core's
/// <see cref="IAuthenticateResultFeature"/> and <see cref="IHttpAuthenticationFeature"/>, which authorization reads.
/// The scheme's events are resolved from the application's services: they must be singletons (AddApiToken's are).
/// </summary>
internal sealed class DotAuthenticationMiddleware(RequestDelegate next, FailureThrottle throttle, IOptionsMonitor<ApiTokenOptions> tokenOptions,
    IAuthenticationSchemeProvider schemes, IClaimsTransformation claimsTransformation, TokenVerifier verifier, IServiceProvider services,
    ILoggerFactory loggers)
{
    private static readonly ApiTokenEvents DefaultEvents = new();

    /// <summary>The handler's own log category, so that Logging settings for it hold for both callers.</summary>
    private readonly ILogger _tokenLogger = loggers.CreateLogger(typeof(ApiTokenHandler).FullName!);

    private AuthenticationScheme? _tokenScheme;

    private ResolvedEvents? _events;

    public Task InvokeAsync(HttpContext context)
    {
        var options = tokenOptions.Get(ApiTokenDefaults.AuthenticationScheme);
        var credential = ApiTokenCredential.Read(context.Request, options);
        if (credential.IsPresent && throttle.Enabled && throttle.RetryAfterSeconds(context.Connection.RemoteIpAddress) is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many failed authentications.",
                $"Too many refused credentials from this address; try again in {retryAfter} seconds.", "throttled");
        }

        return CredentialSchemes.Presented(context.Request, credential) switch
        {
            null => next(context),
            ApiTokenDefaults.AuthenticationScheme when TokenScheme() is { } scheme => AuthenticateTokenAsync(context, scheme, options, credential),
            var other => AuthenticateAsync(context, other),
        };
    }

    /// <summary>The API-token scheme when this middleware may run its check itself; null when the service must.</summary>
    private AuthenticationScheme? TokenScheme()
    {
        _tokenScheme ??= schemes.GetSchemeAsync(ApiTokenDefaults.AuthenticationScheme).GetAwaiter().GetResult();
        return ApiTokenHandler.RunsWithoutService(_tokenScheme, claimsTransformation) ? _tokenScheme : null;
    }

    private Task AuthenticateTokenAsync(HttpContext context, AuthenticationScheme scheme, ApiTokenOptions options, ApiTokenCredential credential)
    {
        var checking = new ApiTokenAttempt(context, scheme, options, EventsOf(options), options.TimeProvider ?? TimeProvider.System, verifier, _tokenLogger)
            .RunAsync(credential);
        return checking.IsCompletedSuccessfully ? Decided(context, scheme.Name, checking.Result) : DecidedAsync(context, scheme.Name, checking);
    }

    /// <summary>
    /// The scheme's events: <see cref="AuthenticationSchemeOptions.EventsType"/> resolved from the application's services
    /// once per type (a singleton, so the same object every time) rather than looked up in the container per request.
    /// </summary>
    private ApiTokenEvents EventsOf(ApiTokenOptions options)
    {
        if (options.EventsType is not { } type)
        {
            return options.Events as ApiTokenEvents ?? DefaultEvents;
        }

        if (_events is { } known && known.Type == type)
        {
            return known.Events;
        }

        var events = (ApiTokenEvents)services.GetRequiredService(type);
        _events = new ResolvedEvents(type, events);
        return events;
    }

    private sealed record ResolvedEvents(Type Type, ApiTokenEvents Events);

    private async Task DecidedAsync(HttpContext context, string scheme, ValueTask<AuthenticateResult> checking)
        => await Decided(context, scheme, await checking);

    private Task Decided(HttpContext context, string scheme, AuthenticateResult result)
    {
        var decision = new AuthenticationDecision(scheme, result);
        context.Features.Set(decision);
        if (result.Succeeded)
        {
            // The decision holds the principal: HttpContext.User reads it from here (setting User first would make a feature of its own).
            context.Features.Set<IHttpAuthenticationFeature>(decision);
            context.Features.Set<IAuthenticateResultFeature>(decision);
        }
        else if (result.Principal is not null)
        {
            context.User = result.Principal;
        }

        return next(context);
    }

    /// <summary>Through the authentication service, exactly as <c>AuthenticationMiddleware</c> does.</summary>
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
            var decision = new AuthenticationDecision(scheme, result);
            context.Features.Set<IHttpAuthenticationFeature>(decision);
            context.Features.Set<IAuthenticateResultFeature>(decision);
        }

        await next(context);
    }
}

public static class ThrottleExtensions
{
    public static IServiceCollection AddAuthenticationThrottle(this IServiceCollection services)
    {
        services.AddOptions<ThrottleOptions>().BindConfiguration(ThrottleOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ThrottleOptions>, ThrottleOptionsValidator>();
        services.AddSingleton<FailureThrottle>();
        // One budget for every instance on the database, where the store lets instances notify each other: counts go
        // out and come in on a notification channel (FailureSharing does nothing on a store that does not).
        services.AddSingleton<FailureSharing>();
        services.AddHostedService(sp => sp.GetRequiredService<FailureSharing>());
        services.AddSingleton<INotificationHandler>(sp => sp.GetRequiredService<FailureSharing>());
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

using Dot.Api.Data;
using Dot.Api.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.Extensions.Options;

namespace Dot.Api.Authentication;

/// <summary>
/// The throttle and authentication in one step, in place of ASP.NET Core's <c>UseAuthentication</c> (docs/adr/0003): it
/// reads the request's credential once (<see cref="ApiTokenCredential"/>) and then
/// <list type="bullet">
/// <item>an API token from an address that is throttled gets <c>429</c> with <c>Retry-After</c> before the token is
/// looked at, so a correct guess does not get through while throttled (API.md §7);</item>
/// <item>an API token is checked by <see cref="ApiTokenAttempt"/> with the scheme's options and events — here and
/// nowhere else; the scheme's handler only answers challenges from the decision kept here;</item>
/// <item>a session cookie is authenticated by its scheme through the authentication service, as
/// <c>AuthenticationMiddleware</c> does;</item>
/// <item>a request with neither goes on as it came, anonymous: no handler is built, no request scope is opened.</item>
/// </list>
/// A success's principal goes through the registered <see cref="IClaimsTransformation"/> (the service does it for the
/// session) and becomes <c>HttpContext.User</c>; the decision is kept (<see cref="AuthenticationDecision"/>, also
/// ASP.NET Core's <see cref="IAuthenticateResultFeature"/>) for authorization and for the challenge of a refusal.
/// The scheme's events are resolved from the application's services: they must be singletons (AddApiToken's are).
/// </summary>
internal sealed class DotAuthenticationMiddleware(RequestDelegate next, FailureThrottle throttle, IOptionsMonitor<ApiTokenOptions> tokenOptions,
    IAuthenticationSchemeProvider schemes, TokenVerifier verifier, IServiceProvider services, ILoggerFactory loggers)
{
    private static readonly ApiTokenEvents DefaultEvents = new();

    /// <summary>The handler's own log category, so that Logging settings for it hold wherever a token is checked.</summary>
    private readonly ILogger _tokenLogger = loggers.CreateLogger(typeof(ApiTokenHandler).FullName!);

    /// <summary>Whether the host registered a claims transformation of its own (the framework's registers one that does nothing).</summary>
    private readonly bool _transforms = TransformsClaims(services);

    private AuthenticationScheme? _tokenScheme;

    private ResolvedEvents? _events;

    public Task InvokeAsync(HttpContext context)
    {
        var options = tokenOptions.Get(ApiTokenDefaults.AuthenticationScheme);
        var credential = ApiTokenCredential.Read(context.Request, options);
        if (credential.IsPresent && throttle.Enabled && throttle.RetryAfterSeconds(context.Connection.RemoteIpAddress) is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Refusals.WriteAsync(context, AuthFailure.Throttled(retryAfter));
        }

        return CredentialSchemes.Presented(context.Request, credential) switch
        {
            null => next(context),
            ApiTokenDefaults.AuthenticationScheme => AuthenticateTokenAsync(context, options, credential),
            var other => AuthenticateAsync(context, other),
        };
    }

    private Task AuthenticateTokenAsync(HttpContext context, ApiTokenOptions options, ApiTokenCredential credential)
    {
        var scheme = _tokenScheme ??= schemes.GetSchemeAsync(ApiTokenDefaults.AuthenticationScheme).GetAwaiter().GetResult()
            ?? throw new InvalidOperationException($"No authentication scheme '{ApiTokenDefaults.AuthenticationScheme}': call AddApiToken().");
        var checking = new ApiTokenAttempt(context, scheme, options, EventsOf(options), options.TimeProvider ?? TimeProvider.System, verifier, _tokenLogger)
            .RunAsync(credential);
        if (!checking.IsCompletedSuccessfully)
        {
            return DecidedAsync(context, scheme.Name, checking);
        }

        var result = checking.Result;
        return _transforms && result.Succeeded
            ? DecidedAsync(context, scheme.Name, new ValueTask<AuthenticateResult>(result))
            : Decided(context, scheme.Name, result);
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
    {
        var result = await checking;
        if (_transforms && result.Succeeded)
        {
            // What the authentication service does after a scheme's success: the host's transformation, a ticket of its own.
            var transformed = await context.RequestServices.GetRequiredService<IClaimsTransformation>().TransformAsync(result.Principal!);
            result = AuthenticateResult.Success(new AuthenticationTicket(transformed, result.Properties, result.Ticket!.AuthenticationScheme));
        }

        await Decided(context, scheme, result);
    }

    private Task Decided(HttpContext context, string scheme, AuthenticateResult result, AuthFailure? failure = null)
    {
        var decision = new AuthenticationDecision(scheme, result, failure);
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

    /// <summary>Through the authentication service (which applies the claims transformation), as <c>AuthenticationMiddleware</c> does.</summary>
    private async Task AuthenticateAsync(HttpContext context, string scheme)
    {
        context.Features.Set<IAuthenticationFeature>(new AuthenticationFeature
        {
            OriginalPath = context.Request.Path,
            OriginalPathBase = context.Request.PathBase,
        });
        var result = await context.AuthenticateAsync(scheme);

        // A session cookie that authenticates nobody names a session that ended: that is what its challenge says.
        await Decided(context, scheme, result, AuthFailure.SessionExpired);
    }

    private static bool TransformsClaims(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        return scope.ServiceProvider.GetService<IClaimsTransformation>() is { } transformation and not NoopClaimsTransformation;
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

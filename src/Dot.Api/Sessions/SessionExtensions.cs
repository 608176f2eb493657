using Dot.Api.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Dot.Api.Sessions;

public static class SessionExtensions
{
    /// <summary>
    /// The session cookie scheme, and <see cref="SessionDefaults.SelectorScheme"/>, the default scheme that
    /// sends each request to the API-token scheme or to the cookie (see <see cref="CredentialSchemes.Select"/>).
    /// </summary>
    public static AuthenticationBuilder AddSessionCookie(this AuthenticationBuilder builder)
    {
        builder.Services.AddScoped<SessionCookieEvents>();
        builder.AddCookie(SessionDefaults.AuthenticationScheme, o =>
        {
            o.Cookie.Name = SessionDefaults.CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.Path = "/";
            o.ExpireTimeSpan = SessionDefaults.IdleTimeout;
            o.SlidingExpiration = true;
            o.EventsType = typeof(SessionCookieEvents);
        });
        builder.AddPolicyScheme(SessionDefaults.SelectorScheme, "API token or session cookie", o => o.ForwardDefaultSelector = CredentialSchemes.Select);
        return builder;
    }

    /// <summary>
    /// Server-side sessions and their lifetime (<c>Dot:Sessions</c>, checked at start), first-run settings, and the
    /// anti-forgery token the page sends with every change.
    /// </summary>
    public static IServiceCollection AddSessions(this IServiceCollection services)
    {
        services.AddOptions<UserSessionOptions>()
            .BindConfiguration(UserSessionOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<UserSessionOptions>, UserSessionOptionsValidator>();
        services.AddScoped<SessionStore>();
        services.AddOptions<SetupOptions>().BindConfiguration(SetupOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SetupOptions>, SetupOptionsValidator>();
        services.AddAntiforgery(o =>
        {
            o.HeaderName = SessionDefaults.AntiforgeryHeaderName;
            o.Cookie.Name = SessionDefaults.AntiforgeryCookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        return services;
    }

    /// <summary>After authentication: refuses cookie-authenticated changes without the anti-forgery token.</summary>
    public static WebApplication UseSessionAntiforgery(this WebApplication app)
    {
        app.UseMiddleware<SessionAntiforgeryMiddleware>();
        return app;
    }
}

using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Authentication;

namespace Dot.Api.Sessions;

/// <summary>The web session: a cookie for the Settings / Users page, beside the API-token scheme.</summary>
public static class SessionDefaults
{
    /// <summary>The cookie scheme.</summary>
    public const string AuthenticationScheme = CredentialSchemes.Session;

    /// <summary>The default scheme: forwards each request to <see cref="ApiTokenDefaults.AuthenticationScheme"/> or to the cookie.</summary>
    public const string SelectorScheme = CredentialSchemes.Selector;

    /// <summary><c>auth.method</c> of a cookie principal, as <c>/api/auth/me</c> reports it.</summary>
    public const string AuthMethod = "cookie";

    public const string CookieName = CredentialSchemes.SessionCookieName;
    public const string AntiforgeryCookieName = "dot_csrf";
    public const string AntiforgeryHeaderName = "X-CSRF-TOKEN";

    /// <summary>The claim that names the session's <see cref="UserSession"/> row.</summary>
    public const string SessionIdClaim = "dot:session_id";

    /// <summary>A session ends after this long without a request (sliding); <see cref="UserSessionOptions.AbsoluteLifetimeHours"/> after sign-in whatever the activity.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(8);

    /// <summary>The same claims a token principal carries, with method <c>cookie</c>, no token, and the session's id.</summary>
    public static ClaimsPrincipal CreatePrincipal(Guid sessionId, Guid userId, string email, string name, Role role)
    {
        var principal = DotClaims.Create(AuthenticationScheme, userId, email, name, role, AuthMethod);
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(SessionIdClaim, sessionId.ToString()));
        return principal;
    }

    /// <summary>The session row a cookie principal names, if it names one.</summary>
    public static Guid? SessionId(this ClaimsPrincipal principal)
        => Guid.TryParse(principal.FindFirstValue(SessionIdClaim), out var id) ? id : null;

    public static bool IsSession(this ClaimsPrincipal principal)
        => principal.Identity?.IsAuthenticated == true
            && string.Equals(principal.FindFirstValue(DotClaims.AuthMethod), AuthMethod, StringComparison.Ordinal);
}

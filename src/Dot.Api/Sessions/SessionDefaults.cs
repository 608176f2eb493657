using System.Security.Claims;
using Dot.Api.Authentication;
using Dot.Api.Users;

namespace Dot.Api.Sessions;

/// <summary>The web session: a cookie for the Settings / Users page, beside the API-token scheme.</summary>
public static class SessionDefaults
{
    /// <summary>The cookie scheme.</summary>
    public const string AuthenticationScheme = "Session";

    /// <summary>The default scheme: forwards each request to <see cref="ApiTokenDefaults.AuthenticationScheme"/> or to the cookie.</summary>
    public const string SelectorScheme = "ApiTokenOrSession";

    /// <summary><c>auth.method</c> of a cookie principal, as <c>/api/auth/me</c> reports it.</summary>
    public const string AuthMethod = "cookie";

    public const string CookieName = "dot_session";
    public const string AntiforgeryCookieName = "dot_csrf";
    public const string AntiforgeryHeaderName = "X-CSRF-TOKEN";

    /// <summary>A session ends after this long without a request (sliding).</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(8);

    /// <summary>The same claims a token principal carries, with method <c>cookie</c> and no token.</summary>
    public static ClaimsPrincipal CreatePrincipal(Guid userId, string email, string name, Role role)
        => DotClaims.Create(AuthenticationScheme, userId, email, name, role, AuthMethod);

    public static bool IsSession(this ClaimsPrincipal principal)
        => principal.Identity?.IsAuthenticated == true
            && string.Equals(principal.FindFirstValue(DotClaims.AuthMethod), AuthMethod, StringComparison.Ordinal);
}

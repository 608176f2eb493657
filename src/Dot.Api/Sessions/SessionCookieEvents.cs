using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Dot.Api.Sessions;

/// <summary>
/// The session cookie's events. Every request re-reads the session's row joined with its user (one
/// query, <see cref="SessionStore.FindLiveAsync"/>): a session that was signed out or is past its absolute
/// lifetime ends, whatever copy of the cookie comes; a demoted user acts with the new role; a disabled or
/// deleted user — or one whose password was changed — is signed out at once. Challenges answer problem
/// details, never a redirect.
/// </summary>
internal sealed class SessionCookieEvents(SessionStore sessions) : CookieAuthenticationEvents
{
    /// <summary>The ticket's copy of <see cref="UserService.PasswordStamp"/> at sign-in.</summary>
    public const string PasswordStampKey = "dot:password_stamp";

    public override async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        // A ticket from before server-side sessions names no session: it is refused like an ended one.
        var named = Guid.TryParse(context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier), out var userId);
        var sessionId = context.Principal?.SessionId() ?? Guid.Empty;
        var current = named && sessionId != Guid.Empty
            ? await sessions.FindLiveAsync(sessionId, userId, context.HttpContext.RequestAborted)
            : null;
        if (current is null || current.Disabled
            || !context.Properties.Items.TryGetValue(PasswordStampKey, out var stamp)
            || !string.Equals(stamp, UserService.PasswordStamp(current.PasswordHash), StringComparison.Ordinal))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(SessionDefaults.AuthenticationScheme);
            return;
        }

        context.ReplacePrincipal(SessionDefaults.CreatePrincipal(sessionId, userId, current.Email, current.Name, current.Role));
    }

    public override Task RedirectToLogin(RedirectContext<CookieAuthenticationOptions> context)
        => Refusals.WriteAsync(context.HttpContext, AuthFailure.SessionExpired);

    public override Task RedirectToAccessDenied(RedirectContext<CookieAuthenticationOptions> context)
        => Refusals.WriteAsync(context.HttpContext, AuthFailure.InsufficientRole(context.HttpContext.User.Role()));
}

using System.Security.Claims;
using Dot.Api.Authentication;
using Dot.Api.Data;
using Dot.Api.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Sessions;

/// <summary>
/// The session cookie's events. Every request re-reads the user (one primary-key lookup), so a
/// demoted user acts with the new role, and a disabled or deleted user — or one whose password was
/// changed — is signed out at once. Challenges answer problem details, never a redirect.
/// </summary>
internal sealed class SessionCookieEvents(DotDbContext db) : CookieAuthenticationEvents
{
    /// <summary>The ticket's copy of <see cref="UserService.PasswordStamp"/> at sign-in.</summary>
    public const string PasswordStampKey = "dot:password_stamp";

    public override async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        var current = Guid.TryParse(context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier), out var userId)
            ? await db.Users.AsNoTracking()
                .Where(u => u.Id == userId)
                .Select(u => new { u.Email, u.Name, u.Role, u.Disabled, u.PasswordHash })
                .FirstOrDefaultAsync(context.HttpContext.RequestAborted)
            : null;
        if (current is null || current.Disabled
            || !context.Properties.Items.TryGetValue(PasswordStampKey, out var stamp)
            || !string.Equals(stamp, UserService.PasswordStamp(current.PasswordHash), StringComparison.Ordinal))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(SessionDefaults.AuthenticationScheme);
            return;
        }

        context.ReplacePrincipal(SessionDefaults.CreatePrincipal(userId, current.Email, current.Name, current.Role));
    }

    public override Task RedirectToLogin(RedirectContext<CookieAuthenticationOptions> context)
        => AuthProblems.WriteUnauthorizedAsync(context.HttpContext,
            "Session expired or ended: sign in again at /settings/users, or send a token in the API-KEY header.",
            "session_expired");

    public override Task RedirectToAccessDenied(RedirectContext<CookieAuthenticationOptions> context)
        => AuthProblems.WriteInsufficientRoleAsync(context.HttpContext);
}

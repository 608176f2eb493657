using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Infrastructure;

namespace Dot.Api.Tokens;

/// <summary>
/// Who may act on whose tokens (API.md §1, §2), for every token route: the scope <c>tokens</c> (checked where the route
/// is mapped) covers the caller's own tokens; another user's — listed with <c>user_id</c>, created for, revoked,
/// rotated — need an admin and, for a scoped token, <c>users</c> as well. A service account's own token, whatever its
/// role, creates, rotates and revokes none: admins manage them with their own credentials.
/// </summary>
public static class TokenAccess
{
    /// <summary>Null when <paramref name="caller"/> may read <paramref name="ownerId"/>'s tokens; else the 403.</summary>
    public static ForbiddenProblem? ToRead(ClaimsPrincipal caller, Guid ownerId)
    {
        if (ownerId == caller.UserId())
        {
            return null;
        }

        if (!caller.IsAdmin())
        {
            return Problems.Forbidden("Forbidden: only an admin may act on another user's tokens.");
        }

        return Scopes.Allows(caller.Scopes(), Scopes.Users)
            ? null
            : Minting.InsufficientScope(
                $"Forbidden: the scope '{Scopes.Tokens}' covers the token's own owner only; another user's tokens need '{Scopes.Users}' as well.",
                [Scopes.Users]);
    }

    /// <summary>Null when <paramref name="caller"/> may create, revoke or rotate <paramref name="ownerId"/>'s tokens; else the 403.</summary>
    public static ForbiddenProblem? ToManage(ClaimsPrincipal caller, Guid ownerId)
        => caller.IsServiceAccount()
            ? Problems.Forbidden("Forbidden: a service account's token cannot create, rotate or revoke tokens; an admin manages them with their own credentials.", "service_account")
            : ToRead(caller, ownerId);
}

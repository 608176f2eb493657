using System.Globalization;
using System.Security.Claims;

namespace Dot.Api.Access;

/// <summary>The claims every Dot principal carries, whatever the scheme.</summary>
public static class DotClaims
{
    public const string AuthMethod = "dot:auth_method";
    public const string TokenId = "dot:token_id";
    public const string TokenName = "dot:token_name";
    public const string TokenExpiresAt = "dot:token_expires_at";

    public static DotPrincipal Create(string scheme, Guid userId, string email, string name, Role role,
        string method, Guid? tokenId = null, string? tokenName = null, DateTime? expiresAt = null)
    {
        var claims = new List<Claim>(8)
        {
            new(ClaimTypes.NameIdentifier, userId.ToString()),
            new(ClaimTypes.Email, email),
            new(ClaimTypes.Name, name),
            new(ClaimTypes.Role, role.ToName()),
            new(AuthMethod, method),
        };
        if (tokenId is { } id)
        {
            claims.Add(new Claim(TokenId, id.ToString()));
            claims.Add(new Claim(TokenName, tokenName ?? string.Empty));
        }

        if (expiresAt is { } exp)
        {
            claims.Add(new Claim(TokenExpiresAt, exp.ToString("O", CultureInfo.InvariantCulture)));
        }

        return new DotPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role),
            new AuthMe(userId, email, name, role.ToName(), new AuthInfoDto(method, tokenId, tokenName, expiresAt)));
    }

    public static Guid UserId(this ClaimsPrincipal principal)
        => principal is DotPrincipal dot ? dot.Me.Id : Guid.Parse(principal.FindFirstValue(ClaimTypes.NameIdentifier)!);

    public static Role Role(this ClaimsPrincipal principal)
        => Roles.TryParse(principal is DotPrincipal dot ? dot.Me.Role : principal.FindFirstValue(ClaimTypes.Role), out var role)
            ? role
            : Access.Role.User;

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.Role() == Access.Role.Admin;
}

/// <summary>
/// A principal made by <see cref="DotClaims.Create"/>: the usual claims, plus the same facts typed,
/// so endpoints read the caller without parsing claims. A cached token reuses its principal.
/// </summary>
public sealed class DotPrincipal(ClaimsIdentity identity, AuthMe me) : ClaimsPrincipal(identity)
{
    public AuthMe Me { get; } = me;
}

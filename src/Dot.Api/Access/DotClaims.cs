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
    public const string Scope = "dot:scope";
    public const string Kind = "dot:kind";

    /// <summary>The <see cref="Kind"/> claim's value for a service account (the user kind <c>service</c>).</summary>
    public const string ServiceKind = "service";

    public static DotPrincipal Create(string scheme, Guid userId, string email, string name, Role role,
        string method, Guid? tokenId = null, string? tokenName = null, DateTime? expiresAt = null,
        IReadOnlySet<string>? scopes = null, bool serviceAccount = false, System.Net.IPNetwork[]? allowedNetworks = null, string? tokenHint = null)
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

        foreach (var scope in scopes ?? Enumerable.Empty<string>())
        {
            claims.Add(new Claim(Scope, scope));
        }

        if (serviceAccount)
        {
            claims.Add(new Claim(Kind, ServiceKind));
        }

        IReadOnlyList<string> shown = scopes is null ? Access.Scopes.Unrestricted : [.. scopes.Order(StringComparer.Ordinal)];
        return new DotPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role),
            new AuthMe(userId, email, name, role.ToName(), new AuthInfoDto(method, tokenId, tokenName, expiresAt, shown)), scopes, allowedNetworks, tokenHint);
    }

    public static Guid UserId(this ClaimsPrincipal principal)
        => principal is DotPrincipal dot ? dot.Me.Id : Guid.Parse(principal.FindFirstValue(ClaimTypes.NameIdentifier)!);

    public static Role Role(this ClaimsPrincipal principal)
        => Roles.TryParse(principal is DotPrincipal dot ? dot.Me.Role : principal.FindFirstValue(ClaimTypes.Role), out var role)
            ? role
            : Access.Role.User;

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.Role() == Access.Role.Admin;

    /// <summary>The token's scopes; null when the caller is not limited by any (an unscoped token, a web session).</summary>
    public static IReadOnlySet<string>? Scopes(this ClaimsPrincipal principal)
    {
        if (principal is DotPrincipal dot)
        {
            return dot.Scopes;
        }

        var claimed = principal.FindAll(Scope).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return claimed.Count == 0 ? null : claimed;
    }

    public static System.Net.IPNetwork[]? AllowedNetworks(this ClaimsPrincipal principal) => (principal as DotPrincipal)?.AllowedNetworks;

    public static bool IsServiceAccount(this ClaimsPrincipal principal) => principal.HasClaim(Kind, ServiceKind);
}

/// <summary>
/// A principal made by <see cref="DotClaims.Create"/>: the usual claims, plus the same facts typed,
/// so endpoints read the caller without parsing claims. A cached token reuses its principal.
/// </summary>
public sealed class DotPrincipal(ClaimsIdentity identity, AuthMe me, IReadOnlySet<string>? scopes = null,
    System.Net.IPNetwork[]? allowedNetworks = null, string? tokenHint = null) : ClaimsPrincipal(identity)
{
    private readonly ClaimsIdentity _identity = identity;

    /// <summary>The framework's own selector, when <see cref="ClaimsPrincipal.PrimaryIdentitySelector"/> still is it.</summary>
    private static readonly Func<IEnumerable<ClaimsIdentity>, ClaimsIdentity?>? FrameworkSelector = PrimaryIdentitySelector is { } selector
        && selector.Method.DeclaringType == typeof(ClaimsPrincipal) && selector.Method.Name == "SelectPrimaryIdentity" ? selector : null;

    /// <summary>
    /// The primary identity. While the host-wide <see cref="ClaimsPrincipal.PrimaryIdentitySelector"/> is the framework's
    /// own (the first identity that is not null), that is this principal's first identity, answered without the base
    /// class's walk over its identities through an interface, which boxes an enumerator on every read; a selector of
    /// the host's still decides.
    /// </summary>
    public override System.Security.Principal.IIdentity? Identity
        => PrimaryIdentitySelector is not { } selector || ReferenceEquals(selector, FrameworkSelector) ? _identity : base.Identity;

    public AuthMe Me { get; } = me;

    /// <summary>The token's scopes; null: everything the role allows.</summary>
    public IReadOnlySet<string>? Scopes { get; } = scopes;

    /// <summary>The token's allowed networks; null: from anywhere.</summary>
    public System.Net.IPNetwork[]? AllowedNetworks { get; } = allowedNetworks;

    /// <summary>The token's public hint (<c>dot-</c> and 6 hex digits), for the audit; null for a web session.</summary>
    public string? TokenHint { get; } = tokenHint;
}

using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using Dot.Api.Infrastructure;

namespace Dot.Api.Access;

/// <summary>
/// The one minting rule of API.md §2: no credential produces a broader one. Every way of producing a secret — a token
/// created, rotated or copied for a user, a password set or given to a new user, a web session opened — asks
/// <see cref="Refusal"/> with what the new credential would allow; a refusal is the answer, whatever the route.
/// The caller's limits are its token's <c>scopes</c> and <c>allowed_ips</c>; a web session, an unscoped token and the
/// command line (no principal) have none. A password or a web session is an unscoped credential usable from anywhere.
/// </summary>
public static class Minting
{
    /// <summary>
    /// Null when a credential of <paramref name="scopes"/> (null: everything the role allows) usable from
    /// <paramref name="networks"/> (null: anywhere) lies within what <paramref name="caller"/> holds (null: the command
    /// line); else the 403 to answer: <c>insufficient_scope</c> naming the missing scopes (<c>*</c> for an unscoped
    /// credential), or <c>ip_not_allowed</c>.
    /// </summary>
    public static ForbiddenProblem? Refusal(ClaimsPrincipal? caller, IReadOnlyList<string>? scopes, IReadOnlyList<IPNetwork>? networks)
    {
        if (caller is null)
        {
            return null;
        }

        if (Scopes.Missing(caller.Scopes(), scopes) is [var first, ..] missing)
        {
            var what = first == Scopes.All
                ? "a scoped token cannot produce an unscoped credential (a token without scopes, a password, a web session)"
                : $"a token may only produce credentials within its own scopes; this one lacks {string.Join(", ", missing.Select(m => $"'{m}'"))}";
            return InsufficientScope($"Forbidden: {what}.", missing);
        }

        if (!Within(caller.AllowedNetworks(), networks))
        {
            return Problems.Forbidden(
                "Forbidden: a token restricted by allowed_ips may only produce credentials whose allowed_ips lie within its own (a password or a web session is usable from anywhere).",
                "ip_not_allowed");
        }

        return null;
    }

    /// <summary>
    /// A 403 <c>insufficient_scope</c> an endpoint answers itself (beyond the scope its route declares): the first missing
    /// scope in <c>required_scope</c>, all of them in <c>missing_scopes</c>.
    /// </summary>
    public static ForbiddenProblem InsufficientScope(string detail, IReadOnlyList<string> missing)
        => new(TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
            extensions: new Dictionary<string, object?> { ["reason"] = "insufficient_scope", ["required_scope"] = missing[0], ["missing_scopes"] = missing }));

    /// <summary>An unscoped credential usable from anywhere (a password, a web session): refused to any restricted caller.</summary>
    public static ForbiddenProblem? UnrestrictedRefusal(ClaimsPrincipal? caller) => Refusal(caller, null, null);

    /// <summary>Whether every network of <paramref name="requested"/> (null: anywhere) lies inside one of <paramref name="granted"/> (null: anywhere).</summary>
    public static bool Within(IReadOnlyList<IPNetwork>? granted, IReadOnlyList<IPNetwork>? requested)
    {
        if (granted is null)
        {
            return true;
        }

        if (requested is null)
        {
            return false;
        }

        foreach (var wanted in requested)
        {
            if (!granted.Any(g => Family(g) == Family(wanted) && g.PrefixLength <= wanted.PrefixLength && g.Contains(wanted.BaseAddress)))
            {
                return false;
            }
        }

        return true;
    }

    private static AddressFamily Family(IPNetwork network) => network.BaseAddress.AddressFamily;
}

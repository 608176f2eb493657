using System.Globalization;
using System.Security.Claims;
using Dot.Api.Access;

namespace Dot.Api.Authentication;

internal static class AuthApi
{
    public static RouteGroupBuilder MapAuth(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/auth")
            .WithTags("Authentication")
            .RequireRole(Role.User);

        group.MapGet("/me", Me)
            .RequireScope(Scopes.Profile)
            .WithName("GetMe")
            .WithSummary("Who am I")
            .WithDescription("The caller and how it authenticated: method (header, query or cookie), and the token's id, name and expiry.");

        return group;
    }

    /// <summary>Answers from the principal alone: the handler already read the owner as they are now.</summary>
    internal static AuthMe Me(ClaimsPrincipal caller)
    {
        if (caller is DotPrincipal dot)
        {
            return dot.Me;
        }

        Guid? tokenId = Guid.TryParse(caller.FindFirstValue(DotClaims.TokenId), out var id) ? id : null;
        DateTime? expiresAt = DateTime.TryParse(caller.FindFirstValue(DotClaims.TokenExpiresAt), CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var exp) ? exp : null;
        return new AuthMe(
            caller.UserId(),
            caller.FindFirstValue(ClaimTypes.Email) ?? string.Empty,
            caller.FindFirstValue(ClaimTypes.Name) ?? string.Empty,
            caller.Role().ToName(),
            new AuthInfoDto(caller.FindFirstValue(DotClaims.AuthMethod) ?? "header", tokenId, caller.FindFirstValue(DotClaims.TokenName), expiresAt,
                caller.Scopes() is { } scopes ? [.. scopes.Order(StringComparer.Ordinal)] : Scopes.Unrestricted));
    }
}

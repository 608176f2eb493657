using System.Security.Claims;
using System.Security.Cryptography;
using Dot.Api.Access;
using Dot.Api.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Dot.Api.BenchHost;

/// <summary>
/// The comparator: a JwtBearer scheme with an HMAC-SHA256 key, fixed issuer and audience. The key
/// comes from <c>BENCH_JWT_KEY</c> (base64, at least 32 bytes) or is drawn once per process.
/// </summary>
internal static class BenchJwt
{
    public const string Scheme = "Jwt";
    public const string Issuer = "dot-bench";
    public const string Audience = "dot-bench";
    public const string TokenName = "bench-jwt";

    public static readonly SymmetricSecurityKey Key = new(LoadKey());

    private static byte[] LoadKey()
    {
        var configured = Environment.GetEnvironmentVariable("BENCH_JWT_KEY");
        if (string.IsNullOrEmpty(configured))
        {
            return RandomNumberGenerator.GetBytes(32);
        }

        var bytes = Convert.FromBase64String(configured);
        return bytes.Length >= 32
            ? bytes
            : throw new InvalidOperationException("BENCH_JWT_KEY must be base64 of at least 32 bytes.");
    }

    /// <summary>A JWT carrying what /api/auth/me answers: the user, and an id, name and expiry for the credential.</summary>
    public static string Issue(User user, TimeSpan lifetime)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [JwtRegisteredClaimNames.Sub] = user.Id.ToString(),
                [JwtRegisteredClaimNames.Email] = user.Email,
                ["name"] = user.Name,
                ["role"] = user.Role.ToName(),
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString(),
                ["token_name"] = TokenName,
            },
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>
    /// What the framework's authorization does for a policy naming this scheme and asking for an authenticated user:
    /// authenticate with the scheme, 401 by its challenge when that fails, else go on as its principal.
    /// </summary>
    public static async ValueTask<object?> RequireAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var result = await context.AuthenticateAsync(Scheme);
        if (!result.Succeeded)
        {
            await context.ChallengeAsync(Scheme);
            return Results.Empty;
        }

        context.User = result.Principal;
        return await next(invocation);
    }

    /// <summary>/api/auth/me's answer, read from the JWT's claims (as a JwtBearer server would).</summary>
    public static AuthMe Me(ClaimsPrincipal caller)
    {
        Guid? tokenId = Guid.TryParse(caller.FindFirstValue(JwtRegisteredClaimNames.Jti), out var jti) ? jti : null;
        DateTime? expiresAt = long.TryParse(caller.FindFirstValue(JwtRegisteredClaimNames.Exp), out var exp)
            ? DateTimeOffset.FromUnixTimeSeconds(exp).UtcDateTime
            : null;
        return new AuthMe(
            Guid.TryParse(caller.FindFirstValue(JwtRegisteredClaimNames.Sub), out var id) ? id : Guid.Empty,
            caller.FindFirstValue(JwtRegisteredClaimNames.Email) ?? string.Empty,
            caller.FindFirstValue("name") ?? string.Empty,
            caller.FindFirstValue("role") ?? Roles.User,
            new AuthInfoDto("jwt", tokenId, caller.FindFirstValue("token_name"), expiresAt, Scopes.Unrestricted));
    }
}

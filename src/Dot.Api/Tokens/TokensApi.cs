using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Infrastructure;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dot.Api.Tokens;

internal static class TokensApi
{
    public static RouteGroupBuilder MapTokens(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/tokens")
            .WithTags("Tokens")
            .RequireRole(Role.User);

        group.MapGet("/", ListAsync)
            .RequireScope(Scopes.Tokens)
            .WithName("ListTokens")
            .WithSummary("List tokens")
            .WithDescription("The caller's tokens, newest first; an admin may pass user_id (an id or an email) to see another user's. Never returns a secret.");

        group.MapGet("/policy", (TokenService tokens) => TypedResults.Ok(tokens.Policy))
            .RequireScope(Scopes.Tokens)
            .WithName("GetTokenPolicy")
            .WithSummary("Token lifetime rules")
            .WithDescription("max_lifetime_days (Dot:Tokens:MaxLifetimeDays, null when unset), never_expires_allowed, and max_days (3650). The web page offers only the expirations allowed here.");

        group.MapPost("/", CreateAsync)
            .RequireScope(Scopes.Tokens)
            .WithName("CreateToken")
            .WithExampleBody(new CreateTokenRequest("ci", "GitHub Actions deploys", 90, null, null, [Scopes.Sync, Scopes.Assets], ["203.0.113.0/24", "2001:db8::/32"]))
            .WithSummary("Create a token")
            .WithDescription("Give expires_in_days (1–3650) or expires_at, or neither for a token that never expires. scopes (profile, tokens, users, connections, sync, sync:<type>/<id>, assets, history, chats, audit; absent or [\"*\"] for everything the owner's role allows) and allowed_ips (addresses or CIDR ranges) restrict it; a scoped token may only create tokens within its own scopes and allowed_ips. The plaintext token is in this response only. 409 when the owner already has an active or rotating token of that name (case-insensitive).")
            .CarriesSecret();

        group.MapDelete("/{id:guid}", RevokeAsync)
            .RequireScope(Scopes.Tokens)
            .WithName("RevokeToken")
            .WithSummary("Revoke a token")
            .WithDescription("Takes effect on the next request. Revoking a revoked token is 204 too.");

        group.MapPost("/{id:guid}/rotate", RotateAsync)
            .RequireScope(Scopes.Tokens)
            .WithName("RotateToken")
            .WithExampleBody(new RotateTokenRequest(60))
            .WithSummary("Rotate a token")
            .WithDescription($"A new secret with the same name, description and lifetime length; the old one keeps working for grace_period_minutes (0–{TokenService.MaxGraceMinutes}, default 0).")
            .CarriesSecret();

        return group;
    }

    /// <summary>A response that may carry a plaintext token is kept by no cache, shared or private (API.md §2).</summary>
    private static RouteHandlerBuilder CarriesSecret(this RouteHandlerBuilder route)
        => route.AddEndpointFilter(static (context, next) =>
        {
            context.HttpContext.Response.Headers.CacheControl = "no-store";
            context.HttpContext.Response.Headers.Pragma = "no-cache";
            return next(context);
        });

    private static async Task<Results<Ok<Page<TokenDto>>, ForbiddenProblem, NotFoundProblem>> ListAsync(
        [FromQuery(Name = "user_id")] string? userId, ClaimsPrincipal caller, TokenService tokens, TokenUsageRecorder usage, CancellationToken ct)
    {
        var ownerId = caller.UserId();
        if (!string.IsNullOrEmpty(userId))
        {
            var owner = await tokens.FindUserAsync(userId, ct);
            if (TokenAccess.ToRead(caller, owner?.Id ?? Guid.Empty) is { } refused)
            {
                return refused;
            }

            if (owner is null)
            {
                return Problems.NotFound("No user with that id or email.");
            }

            ownerId = owner.Id;
        }

        var now = tokens.Now;
        var items = (await tokens.ListAsync(ownerId, ct))
            .Select(t => t.ToDto(now, usage.TryGetPending(t.Id, out var u) ? u : null))
            .ToList();
        return TypedResults.Ok(new Page<TokenDto>(items, null));
    }

    private static async Task<Results<Created<CreatedTokenDto>, InvalidProblem, ForbiddenProblem, ConflictProblem>> CreateAsync(
        CreateTokenRequest request, ClaimsPrincipal caller, TokenService tokens, CancellationToken ct)
    {
        var ownerId = caller.UserId();
        Users.User? owner = null;
        if (!string.IsNullOrEmpty(request.UserId))
        {
            owner = await tokens.FindUserAsync(request.UserId, ct);
            ownerId = owner?.Id ?? Guid.Empty;
        }

        if (TokenAccess.ToManage(caller, ownerId) is { } refused)
        {
            return refused;
        }

        var errors = new FieldErrors();
        if (!string.IsNullOrEmpty(request.UserId) && owner is null)
        {
            errors.Add("user_id", "No user with that id or email.");
        }

        TokenService.ValidateText(request.Name, request.Description, errors);
        DateTime? expiresAt = null;
        if (request.ExpiresInDays is < 1 or > TokenService.MaxDays)
        {
            errors.Add("expires_in_days", $"expires_in_days must be between 1 and {TokenService.MaxDays}.");
        }
        else
        {
            TimeSpan? lifetime = request.ExpiresInDays is { } days ? TimeSpan.FromDays(days) : null;
            expiresAt = tokens.ResolveExpiry(lifetime, request.ExpiresAt, "expires_in_days", "expires_at", errors);
        }

        var scopes = TokenScopes.Parse(request.Scopes, "scopes", errors);
        var allowedIps = AllowedIps.Parse(request.AllowedIps, "allowed_ips", errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        return await tokens.TryCreateAsync(caller, ownerId, request.Name!, request.Description, expiresAt, new TokenRestrictions(scopes, allowedIps), ct) switch
        {
            MintResult.Minted minted => TypedResults.Created($"/api/tokens/{minted.Token.Id}", minted.Token.ToCreatedDto(tokens.Now, minted.Plaintext)),
            MintResult.Refused mintRefused => mintRefused.Problem,
            MintResult.NameTaken taken => Problems.Conflict($"There is already an active token named \"{taken.Name}\"; names are unique among a user's active and rotating tokens (revoked and expired ones do not count)."),
            var other => throw new InvalidOperationException($"Creating a token cannot come to {other}."),
        };
    }

    private static async Task<Results<NoContent, ForbiddenProblem, NotFoundProblem>> RevokeAsync(
        Guid id, ClaimsPrincipal caller, TokenService tokens, CancellationToken ct)
    {
        var token = await tokens.FindAsync(id, ct);
        if (TokenAccess.ToManage(caller, token?.UserId ?? caller.UserId()) is { } refused)
        {
            return refused;
        }

        if (token is null)
        {
            return Problems.NotFound("No token with that id.");
        }

        await tokens.RevokeAsync(token, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created<CreatedTokenDto>, InvalidProblem, ForbiddenProblem, NotFoundProblem, ConflictProblem>> RotateAsync(
        Guid id, RotateTokenRequest? request, ClaimsPrincipal caller, TokenService tokens, CancellationToken ct)
    {
        var grace = request?.GracePeriodMinutes ?? 0;
        if (grace is < 0 or > TokenService.MaxGraceMinutes)
        {
            return Problems.Validation("grace_period_minutes", $"grace_period_minutes must be between 0 and {TokenService.MaxGraceMinutes}.");
        }

        var token = await tokens.FindAsync(id, ct);
        if (TokenAccess.ToManage(caller, token?.UserId ?? caller.UserId()) is { } refused)
        {
            return refused;
        }

        if (token is null)
        {
            return Problems.NotFound("No token with that id.");
        }

        return await tokens.RotateAsync(caller, token, TimeSpan.FromMinutes(grace), ct) switch
        {
            MintResult.Minted minted => TypedResults.Created($"/api/tokens/{minted.Token.Id}", minted.Token.ToCreatedDto(tokens.Now, minted.Plaintext)),
            MintResult.Refused mintRefused => mintRefused.Problem,
            _ => Problems.Conflict(TokenService.NotActiveForRotation),
        };
    }
}

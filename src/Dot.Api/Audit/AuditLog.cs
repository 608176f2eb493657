using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Data;

namespace Dot.Api.Audit;

/// <summary>
/// Adds audit events to the caller's unit of work: they are saved by the same SaveChanges as the
/// change they describe, so an event exists exactly when its change does.
/// </summary>
public sealed class AuditLog(DotDbContext db, TimeProvider time, IHttpContextAccessor http)
{
    /// <summary>
    /// The actor is the authenticated caller, and the API token it authenticated with (its id and hint) when it did;
    /// none for the command line.
    /// </summary>
    public AuditEvent Add(string type, Guid? subjectUserId = null, string? target = null, string? detail = null)
    {
        var caller = http.HttpContext?.User is { Identity.IsAuthenticated: true } user ? user : null;
        var tokenId = caller is null ? null : ActingTokenId(caller);
        return db.AuditEvents.Add(new AuditEvent
        {
            Id = Guid.CreateVersion7(),
            Type = type,
            OccurredAt = time.GetUtcNow().UtcDateTime,
            ActorId = caller?.UserId(),
            ActorTokenId = tokenId,
            ActorTokenHint = tokenId is null ? null : (caller as DotPrincipal)?.TokenHint,
            SubjectUserId = subjectUserId,
            Target = target,
            Address = http.HttpContext?.Connection.RemoteIpAddress?.ToString(),
            Detail = detail,
        }).Entity;
    }

    private static Guid? ActingTokenId(ClaimsPrincipal caller)
        => caller is DotPrincipal dot ? dot.Me.Auth.TokenId
            : Guid.TryParse(caller.FindFirstValue(DotClaims.TokenId), out var id) ? id : null;
}

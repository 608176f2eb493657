using Dot.Api.Access;
using Dot.Api.Data;

namespace Dot.Api.Audit;

/// <summary>
/// Adds audit events to the caller's unit of work: they are saved by the same SaveChanges as the
/// change they describe, so an event exists exactly when its change does.
/// </summary>
public sealed class AuditLog(DotDbContext db, TimeProvider time, IHttpContextAccessor http)
{
    /// <summary>The actor is the authenticated caller; none for the command line.</summary>
    public AuditEvent Add(string type, Guid? subjectUserId = null, string? target = null, string? detail = null)
        => db.AuditEvents.Add(new AuditEvent
        {
            Id = Guid.CreateVersion7(),
            Type = type,
            OccurredAt = time.GetUtcNow().UtcDateTime,
            ActorId = http.HttpContext?.User is { Identity.IsAuthenticated: true } user ? user.UserId() : null,
            SubjectUserId = subjectUserId,
            Target = target,
            Address = http.HttpContext?.Connection.RemoteIpAddress?.ToString(),
            Detail = detail,
        }).Entity;
}

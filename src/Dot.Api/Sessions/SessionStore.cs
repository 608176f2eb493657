using Dot.Api.Access;
using Dot.Api.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dot.Api.Sessions;

/// <summary>The live user behind a session cookie, as <see cref="SessionStore.FindLiveAsync"/> reads it.</summary>
internal sealed record LiveSession(string Email, string Name, Role Role, bool Disabled, string? PasswordHash, DateTime? LastSeenAt);

/// <summary>
/// The <c>user_sessions</c> rows behind the session cookie: made at sign-in and first run, read on every
/// cookie request (one query, joined with the user), ended by sign-out, and cleaned up at sign-in.
/// </summary>
internal sealed class SessionStore(DotDbContext db, TimeProvider time, IOptions<UserSessionOptions> options)
{
    /// <summary><see cref="UserSession.LastSeenAt"/> is written at most this often per session, not on every request.</summary>
    public static readonly TimeSpan LastSeenResolution = TimeSpan.FromMinutes(1);

    /// <summary>Ended and expired rows are kept this long (to tell a user why a session ended), then deleted.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    /// <summary>A new session for <paramref name="userId"/>; deletes that user's rows ended or expired more than <see cref="Retention"/> ago.</summary>
    public async Task<UserSession> StartAsync(Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var cutoff = now - Retention;
        await db.UserSessions
            .Where(s => s.UserId == userId && ((s.EndedAt != null && s.EndedAt < cutoff) || s.ExpiresAt < cutoff))
            .ExecuteDeleteAsync(cancellationToken);

        var session = new UserSession
        {
            Id = Guid.NewGuid(),
            UserId = userId,
            CreatedAt = now,
            LastSeenAt = now,
            ExpiresAt = now + options.Value.AbsoluteLifetime,
        };
        db.UserSessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return session;
    }

    /// <summary>
    /// The session's user, or null when the session does not exist, was ended, is past its absolute lifetime,
    /// or belongs to another user. One query: the session joined with its user.
    /// </summary>
    public async Task<LiveSession?> FindLiveAsync(Guid sessionId, Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var live = await db.UserSessions.AsNoTracking()
            .Where(s => s.Id == sessionId && s.UserId == userId && s.EndedAt == null && s.ExpiresAt > now)
            .Select(s => new LiveSession(s.User!.Email, s.User.Name, s.User.Role, s.User.Disabled, s.User.PasswordHash, s.LastSeenAt))
            .FirstOrDefaultAsync(cancellationToken);
        if (live is not null && (live.LastSeenAt is not { } seen || now - seen >= LastSeenResolution))
        {
            await db.UserSessions
                .Where(s => s.Id == sessionId)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSeenAt, now), cancellationToken);
        }

        return live;
    }

    /// <summary>Ends the session (sign-out): no copy of its cookie works after this.</summary>
    public async Task EndAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.UserSessions
            .Where(s => s.Id == sessionId && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now), cancellationToken);
    }
}

using Dot.Api.Users;

namespace Dot.Api.Sessions;

/// <summary>
/// A web session on the server (<c>user_sessions</c>). The session cookie names its row; the cookie is good only
/// while the row exists, is not ended and is within its absolute lifetime, so signing out (or the lifetime
/// passing) ends every copy of the cookie too.
/// </summary>
public sealed class UserSession
{
    /// <summary>A random (version 4, CSPRNG) GUID, never derived from the user or the time.</summary>
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public User? User { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>The last request seen with this session, kept to within <see cref="SessionStore.LastSeenResolution"/>.</summary>
    public DateTime? LastSeenAt { get; set; }

    /// <summary>The absolute end (<c>Dot:Sessions:AbsoluteLifetimeHours</c> after sign-in), whatever the activity.</summary>
    public DateTime ExpiresAt { get; set; }

    /// <summary>Set by sign-out.</summary>
    public DateTime? EndedAt { get; set; }
}

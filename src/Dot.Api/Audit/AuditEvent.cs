namespace Dot.Api.Audit;

/// <summary>Something security-relevant that happened, kept in the database for admins to read.</summary>
public sealed class AuditEvent
{
    public Guid Id { get; set; }

    /// <summary>One of <see cref="AuditEventTypes"/>.</summary>
    public required string Type { get; set; }

    public DateTime OccurredAt { get; set; }

    /// <summary>Who did it (null for the CLI, the server itself, or an unauthenticated caller).</summary>
    public Guid? ActorId { get; set; }

    /// <summary>The API token the actor authenticated with (null for a web session, the CLI, the server itself).</summary>
    public Guid? ActorTokenId { get; set; }

    /// <summary>That token's public hint (<c>dot-</c> and 6 hex digits), kept on the row: a token goes with its deleted owner, the row stays.</summary>
    public string? ActorTokenHint { get; set; }

    /// <summary>Whom it concerns: the token's owner, the user changed.</summary>
    public Guid? SubjectUserId { get; set; }

    /// <summary>What it concerns: a token id, "postgres/my-db", a sync id.</summary>
    public string? Target { get; set; }

    /// <summary>The client address, where there was one.</summary>
    public string? Address { get; set; }

    /// <summary>A short, secret-free description: a failure reason, "user → admin".</summary>
    public string? Detail { get; set; }

    /// <summary>Events folded into this one (authentication failures are counted per address, reason and hint).</summary>
    public int Count { get; set; } = 1;
}

public static class AuditEventTypes
{
    public const string TokenCreated = "token.created";
    public const string TokenRevoked = "token.revoked";
    public const string TokenRotated = "token.rotated";
    public const string AuthFailed = "auth.failed";
    public const string UserCreated = "user.created";
    public const string UserRoleChanged = "user.role_changed";
    public const string UserDisabled = "user.disabled";
    public const string UserEnabled = "user.enabled";
    public const string UserDeleted = "user.deleted";
    public const string ConnectionCreated = "connection.created";
    public const string ConnectionDeleted = "connection.deleted";
    public const string SyncRequested = "sync.requested";

    /// <summary>A sync trigger with a good token but a bad webhook signature (the connection has a <c>webhook_secret</c>).</summary>
    public const string WebhookRefused = "sync.webhook_refused";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        TokenCreated, TokenRevoked, TokenRotated, AuthFailed, UserCreated, UserRoleChanged, UserDisabled,
        UserEnabled, UserDeleted, ConnectionCreated, ConnectionDeleted, SyncRequested, WebhookRefused,
    };
}

using Dot.Api.Users;

namespace Dot.Api.Tokens;

public sealed class ApiToken
{
    public const int MaxNameLength = 100;
    public const int MaxDescriptionLength = 500;

    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public User? User { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>SHA-256 of the whole token. The plaintext is never stored.</summary>
    public required byte[] Hash { get; set; }

    /// <summary><c>dot-</c> and the first 6 hex digits: enough to recognise, useless to guess.</summary>
    public required string Hint { get; set; }

    public DateTime CreatedAt { get; set; }

    public Guid? CreatedBy { get; set; }

    public DateTime? ExpiresAt { get; set; }

    public DateTime? LastUsedAt { get; set; }

    public string? LastUsedIp { get; set; }

    public string? LastUsedVia { get; set; }

    public DateTime? RevokedAt { get; set; }

    /// <summary>Set when the token was rotated: the old secret works until this instant.</summary>
    public DateTime? GraceEndsAt { get; set; }

    /// <summary>The token that replaced this one by rotation.</summary>
    public Guid? ReplacedBy { get; set; }

    /// <summary>The canonical scope list, space-separated (<see cref="Access.Scopes"/>); null: everything the owner's role allows.</summary>
    public string? Scopes { get; set; }

    /// <summary>The canonical allowed networks, space-separated (<see cref="Tokens.AllowedIps"/>); null: from anywhere.</summary>
    public string? AllowedIps { get; set; }

    public TokenStatus StatusAt(DateTime now) => TokenRules.StatusAt(RevokedAt, ExpiresAt, GraceEndsAt, now);
}

public enum TokenStatus
{
    Active,
    Rotating,
    Expired,
    Revoked,
}

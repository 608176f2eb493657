namespace Dot.Api.Tokens;

public sealed record CreateTokenRequest(
    string? Name,
    string? Description,
    int? ExpiresInDays,
    DateTime? ExpiresAt,
    string? UserId,
    IReadOnlyList<string?>? Scopes = null,
    IReadOnlyList<string?>? AllowedIps = null);

/// <summary>
/// The lifetimes this server accepts: <c>max_lifetime_days</c> (null: no ceiling), whether a token
/// may never expire, and the longest lifetime any token may have.
/// </summary>
public sealed record TokenPolicyDto(int? MaxLifetimeDays, bool NeverExpiresAllowed, int MaxDays);

public sealed record RotateTokenRequest(int? GracePeriodMinutes);

/// <summary>A token as lists show it: never the secret.</summary>
public record TokenDto(
    Guid Id,
    Guid UserId,
    string Name,
    string? Description,
    string Hint,
    DateTime CreatedAt,
    Guid? CreatedBy,
    DateTime? ExpiresAt,
    DateTime? LastUsedAt,
    string? LastUsedIp,
    string? LastUsedVia,
    DateTime? RevokedAt,
    DateTime? GraceEndsAt,
    string Status,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<string>? AllowedIps);

/// <summary>The answer to create and rotate: the fields of <see cref="TokenDto"/> plus the plaintext, this once.</summary>
public sealed record CreatedTokenDto : TokenDto
{
    public CreatedTokenDto(TokenDto fields, string token)
        : base(fields)
        => Token = token;

    public string Token { get; }
}

internal static class TokenMapping
{
    public static TokenDto ToDto(this ApiToken t, DateTime now, TokenUsage? pending = null) => new(
        t.Id, t.UserId, t.Name, t.Description, t.Hint, t.CreatedAt, t.CreatedBy, t.ExpiresAt,
        pending?.At ?? t.LastUsedAt, pending is { } p ? p.Ip : t.LastUsedIp, pending?.Via ?? t.LastUsedVia,
        t.RevokedAt, t.GraceEndsAt, t.StatusAt(now).ToString().ToLowerInvariant(),
        Access.Scopes.ToWire(t.Scopes), AllowedIps.FromStored(t.AllowedIps));

    public static CreatedTokenDto ToCreatedDto(this ApiToken t, DateTime now, string plaintext) => new(t.ToDto(now), plaintext);
}

using Dot.Api.Data;

namespace Dot.Api.Tokens;

/// <summary>What a presented token comes to: valid, or the one reason it is not.</summary>
public enum TokenVerdict
{
    Valid,
    TooLong,
    Malformed,
    BadChecksum,
    Unknown,
    Expired,
    Revoked,
    Disabled,

    /// <summary>A URL token without <c>user_id</c>.</summary>
    UserIdMissing,

    /// <summary>A URL token whose <c>user_id</c> names someone else.</summary>
    UserIdMismatch,

    /// <summary>From an address outside the token's <c>allowed_ips</c>.</summary>
    IpNotAllowed,
}

/// <summary>
/// What a request says around its token: whether it came in the URL, with the <c>user_id</c> that must then name the
/// owner, and the client address that <c>allowed_ips</c> is checked against.
/// </summary>
public readonly record struct TokenRequest(bool InUrl, string? UserId, System.Net.IPAddress? Client)
{
    public static TokenRequest InHeader(System.Net.IPAddress? client) => new(false, null, client);
}

/// <summary>A verdict, with the verified token when there is one (a known token's entry also when it is refused).</summary>
public readonly record struct TokenVerification(TokenVerdict Verdict, CachedToken? Entry)
{
    public bool IsValid => Verdict == TokenVerdict.Valid;
}

/// <summary>The status rules of API.md §2, in one place: for the lists (<see cref="ApiToken.StatusAt"/>) and for authentication alike.</summary>
public static class TokenRules
{
    /// <summary>Longer credentials are refused before any hashing.</summary>
    public const int MaxCredentialLength = 256;

    public static TokenStatus StatusAt(DateTime? revokedAt, DateTime? expiresAt, DateTime? graceEndsAt, DateTime now)
    {
        if (revokedAt is not null && revokedAt <= now)
        {
            return TokenStatus.Revoked;
        }

        if (expiresAt is not null && expiresAt <= now)
        {
            return TokenStatus.Expired;
        }

        if (graceEndsAt is not null)
        {
            return graceEndsAt > now ? TokenStatus.Rotating : TokenStatus.Revoked;
        }

        return TokenStatus.Active;
    }
}

/// <summary>
/// Answers "is this credential valid for this request", with one verdict (as unkey's key service does): length, shape
/// and checksum (no database), then the verified-token cache, then one lookup by hash on a miss; then, cached or not,
/// the token's status and its owner's disabled flag against the clock, a URL token's <c>user_id</c>, and the client
/// address against <c>allowed_ips</c> — in that order, so a place is judged only for a token in force.
/// Synchronous on a cache hit.
/// </summary>
public sealed class TokenVerifier(TokenLookup lookup, VerifiedTokenCache cache)
{
    public ValueTask<TokenVerification> VerifyAsync(string credential, TokenRequest request, DateTime now, CancellationToken cancellationToken)
    {
        if (credential.Length > TokenRules.MaxCredentialLength)
        {
            return new(new TokenVerification(TokenVerdict.TooLong, null));
        }

        Span<byte> hash = stackalloc byte[System.Security.Cryptography.SHA256.HashSizeInBytes];
        switch (TokenFormat.CheckAndHash(credential, hash))
        {
            case TokenShape.Malformed:
                return new(new TokenVerification(TokenVerdict.Malformed, null));
            case TokenShape.BadChecksum:
                return new(new TokenVerification(TokenVerdict.BadChecksum, null));
        }

        var key = TokenHashKey.From(hash);
        return cache.TryGet(key, out var entry)
            ? new(Judge(entry, request, now))
            : LookUpAsync(key, request, now, cancellationToken);
    }

    private async ValueTask<TokenVerification> LookUpAsync(TokenHashKey key, TokenRequest request, DateTime now, CancellationToken cancellationToken)
    {
        var stamp = cache.EvictionStamp;
        var found = await lookup.FindAsync(key.ToArray(), cancellationToken);
        return found is null
            ? new TokenVerification(TokenVerdict.Unknown, null)
            : Judge(cache.Add(key, found, stamp), request, now);
    }

    private static TokenVerification Judge(CachedToken entry, TokenRequest request, DateTime now)
    {
        var token = entry.Token;
        var verdict = TokenRules.StatusAt(token.RevokedAt, token.ExpiresAt, token.GraceEndsAt, now) switch
        {
            TokenStatus.Revoked => TokenVerdict.Revoked,
            TokenStatus.Expired => TokenVerdict.Expired,
            _ when token.Disabled => TokenVerdict.Disabled,
            _ when request.InUrl && string.IsNullOrEmpty(request.UserId) => TokenVerdict.UserIdMissing,
            _ when request.InUrl && !NamesOwner(request.UserId!, token) => TokenVerdict.UserIdMismatch,
            _ when entry.AllowedNetworks is { } networks && !AllowedIps.Contains(networks, request.Client) => TokenVerdict.IpNotAllowed,
            _ => TokenVerdict.Valid,
        };
        return new TokenVerification(verdict, entry);
    }

    /// <summary>A URL token's <c>user_id</c> names its owner: by id, or by email compared case-insensitively.</summary>
    private static bool NamesOwner(string userId, VerifiedToken token)
        => Guid.TryParse(userId, out var id)
            ? id == token.UserId
            : string.Equals(userId.Trim(), token.Email, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A published change (<see cref="ChangeNotifications.PublishAsync"/>): a token (revoked, rotated) or a user (role,
/// disabled flag, password, deletion) is dropped from this instance's cache — after the commit for a change made here,
/// and on PostgreSQL on notification for one made by another instance or the CLI. When the listener was (re)connected,
/// notices may have been missed: the whole cache goes.
/// </summary>
internal sealed class EvictTokensOnChangeNotice(VerifiedTokenCache cache) : INotificationHandler
{
    public string Channel => NotificationChannels.Changes;

    public void Notified(string payload)
    {
        if (ChangeNotice.TokenHash(payload) is { } hash)
        {
            cache.Remove(hash);
        }
        else if (ChangeNotice.UserId(payload) is { } userId)
        {
            cache.RemoveUser(userId);
        }
    }

    public void Resubscribed() => cache.Clear();
}

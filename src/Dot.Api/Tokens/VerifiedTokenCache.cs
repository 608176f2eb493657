using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Runtime.InteropServices;
using System.Security.Claims;
using Dot.Api.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Dot.Api.Tokens;

/// <summary>SHA-256 of a token as four machine words: a dictionary key that compares without allocating.</summary>
public readonly record struct TokenHashKey(ulong A, ulong B, ulong C, ulong D)
{
    public static TokenHashKey From(ReadOnlySpan<byte> hash)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(hash[..32]);
        return new TokenHashKey(words[0], words[1], words[2], words[3]);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[32];
        var words = MemoryMarshal.Cast<byte, ulong>(bytes.AsSpan());
        (words[0], words[1], words[2], words[3]) = (A, B, C, D);
        return bytes;
    }
}

/// <summary>
/// Tokens verified against the database, keyed by hash, holding owner, role, expiry and state.
/// Bounded by two generations of at most <c>CacheSize / 2</c> entries each: when the young one fills,
/// the old one is dropped and the young one becomes old (an approximate LRU: a hit in the old
/// generation moves the entry back to the young one). Lookups allocate nothing.
/// </summary>
public sealed class VerifiedTokenCache(IOptions<TokenOptions> options, TimeProvider time)
{
    private readonly int _generationSize = options.Value.CacheSize / 2;
    private readonly TimeSpan _ttl = TimeSpan.FromSeconds(options.Value.CacheSeconds);
    /// <summary>Held by every move of an entry between generations and by every eviction (<see cref="Promote"/>).</summary>
    private readonly Lock _moves = new();
    private ConcurrentDictionary<TokenHashKey, CachedToken> _young = new();
    private ConcurrentDictionary<TokenHashKey, CachedToken> _old = new();
    private long _evictions;

    public int Count => _young.Count + _old.Count;

    /// <summary>
    /// Counts evictions: read before a database lookup and given back to <see cref="Add"/>, it keeps out a token
    /// read before an eviction that overtook the lookup (a notice that arrived while the lookup was on its way).
    /// </summary>
    public long EvictionStamp => Interlocked.Read(ref _evictions);

    public bool TryGet(in TokenHashKey key, out CachedToken entry)
    {
        if (_young.TryGetValue(key, out entry!) || Promote(key, out entry!))
        {
            if (time.GetUtcNow().UtcDateTime - entry.VerifiedAt < _ttl)
            {
                return true;
            }

            Drop(key);
        }

        entry = null!;
        return false;
    }

    /// <summary>
    /// The entry for a token just read from the database; kept unless something was evicted since
    /// <paramref name="stamp"/> (<see cref="EvictionStamp"/> before the read), as the read may predate that change.
    /// An eviction counts before it takes entries out, and this stores before it compares: either the comparison sees
    /// the eviction, or the eviction comes after the store and takes the entry out.
    /// </summary>
    public CachedToken Add(in TokenHashKey key, VerifiedToken token, long stamp)
    {
        var entry = new CachedToken(token, time.GetUtcNow().UtcDateTime);
        if (_ttl > TimeSpan.Zero)
        {
            Store(key, entry);
            if (EvictionStamp != stamp)
            {
                Drop(key);
            }
        }

        return entry;
    }

    /// <summary>Evicts one token: on revoke and rotate, here or (notified) on another instance.</summary>
    public void Remove(byte[] hash) => Remove(TokenHashKey.From(hash));

    /// <summary>Evicts everything: when notifications of changes elsewhere may have been missed.</summary>
    public void Clear()
    {
        lock (_moves)
        {
            Interlocked.Increment(ref _evictions);
            _young.Clear();
            _old.Clear();
        }
    }

    /// <summary>Evicts every token of a user: on a change of role, disabled flag, or deletion.</summary>
    public void RemoveUser(Guid userId)
    {
        lock (_moves)
        {
            Interlocked.Increment(ref _evictions);
            foreach (var generation in new[] { _young, _old })
            {
                foreach (var (key, entry) in generation)
                {
                    if (entry.Token.UserId == userId)
                    {
                        generation.TryRemove(key, out _);
                    }
                }
            }
        }
    }

    private void Remove(in TokenHashKey key)
    {
        lock (_moves)
        {
            Interlocked.Increment(ref _evictions);
            Drop(key);
        }
    }

    /// <summary>Takes an entry out without counting an eviction: it outlived the window, or was never to be kept.</summary>
    private void Drop(in TokenHashKey key)
    {
        _young.TryRemove(key, out _);
        _old.TryRemove(key, out _);
    }

    /// <summary>
    /// A hit in the old generation moves the entry to the young one. The move holds <see cref="_moves"/>, as every
    /// eviction does, so an eviction cannot fall between taking the entry out of the old generation and putting it in
    /// the young one (which would bring an evicted token back); the lock is taken only on an old generation's hit.
    /// </summary>
    private bool Promote(in TokenHashKey key, out CachedToken entry)
    {
        if (!_old.ContainsKey(key))
        {
            entry = null!;
            return false;
        }

        lock (_moves)
        {
            if (!_old.TryRemove(key, out entry!))
            {
                return _young.TryGetValue(key, out entry!);
            }

            Store(key, entry);
            return true;
        }
    }

    private void Store(in TokenHashKey key, CachedToken entry)
    {
        if (_young.Count >= _generationSize)
        {
            lock (_moves)
            {
                if (_young.Count >= _generationSize)
                {
                    _old = _young;
                    _young = new ConcurrentDictionary<TokenHashKey, CachedToken>();
                }
            }
        }

        _young[key] = entry;
    }
}

/// <summary>A verified token, with what the handler builds from it made once, not per request.</summary>
public sealed class CachedToken(VerifiedToken token, DateTime verifiedAt)
{
    private ClaimsPrincipal? _headerPrincipal;
    private ClaimsPrincipal? _queryPrincipal;
    private AuthenticateResult? _headerSuccess;
    private AuthenticateResult? _querySuccess;

    public VerifiedToken Token { get; } = token;

    public DateTime VerifiedAt { get; } = verifiedAt;

    /// <summary>The <c>Dot-Token-Expiration</c> value, formatted once.</summary>
    public string? ExpirationHeader { get; } = token.ExpiresAt?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The token's scopes as a set, read once; null for an unscoped token.</summary>
    public IReadOnlySet<string>? Scopes { get; } = Access.Scopes.FromStored(token.Scopes)?.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The networks a request must come from, parsed once; null: from anywhere.</summary>
    public System.Net.IPNetwork[]? AllowedNetworks { get; } = AllowedIps.Networks(token.AllowedIps);

    public ClaimsPrincipal Principal(string scheme, string via)
    {
        ref var slot = ref via == "query" ? ref _queryPrincipal : ref _headerPrincipal;
        return slot ??= DotClaims.Create(scheme, Token.UserId, Token.Email, Token.UserName, Token.Role, via,
            Token.TokenId, Token.TokenName, Token.ExpiresAt, Scopes, Token.Kind == Users.UserKind.Service, AllowedNetworks, Token.Hint);
    }

    /// <summary>
    /// The authentication success for <paramref name="principal"/>: when it is this entry's own principal for
    /// <paramref name="via"/>, one result made once and shared by every request with the token, as the principal is
    /// (its ticket's properties are empty and read by nobody: treat both as read-only); otherwise a new one.
    /// </summary>
    public AuthenticateResult Success(string scheme, string via, ClaimsPrincipal principal)
    {
        ref var slot = ref via == "query" ? ref _querySuccess : ref _headerSuccess;
        if (!ReferenceEquals(principal, via == "query" ? _queryPrincipal : _headerPrincipal))
        {
            return NewSuccess(principal, scheme);
        }

        var cached = slot;
        return cached is not null && cached.Ticket!.AuthenticationScheme == scheme ? cached : slot = NewSuccess(principal, scheme);
    }

    private static AuthenticateResult NewSuccess(ClaimsPrincipal principal, string scheme)
        => AuthenticateResult.Success(new AuthenticationTicket(principal, scheme));
}

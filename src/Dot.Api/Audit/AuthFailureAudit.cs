using System.Collections.Concurrent;
using System.Net;
using Dot.Api.Data;
using Dot.Api.Infrastructure;

namespace Dot.Api.Audit;

/// <summary>
/// Authentication failures, counted in memory per (address, reason, hint) and written as one
/// <c>auth.failed</c> event per key and interval: a flood of bad tokens costs a dictionary
/// increment per request, not a database write. The hint is only ever a Dot token's public
/// prefix (<c>dot-</c> + 6 hex digits), never the secret.
/// </summary>
public sealed partial class AuthFailureAudit(IServiceScopeFactory scopes, TimeProvider time, ILogger<AuthFailureAudit> logger) : IBatchWriter
{
    private const int MaxKeys = 10_000;
    private ConcurrentDictionary<Key, Counter> _pending = new();

    /// <summary>Counts one failure; <paramref name="hint"/> is the credential's public hint at most (TokenFormat.HintOf).</summary>
    public void Record(IPAddress? address, string reason, string? hint)
    {
        var pending = _pending;
        var key = new Key(address, reason, hint);
        if (pending.Count >= MaxKeys && !pending.ContainsKey(key))
        {
            key = new Key(null, reason, null); // past the bound: still counted, without the address
        }

        var counter = pending.GetOrAdd(key, static (_, now) => new Counter(now), time.GetUtcNow().UtcDateTime);
        Interlocked.Increment(ref counter.Count);
    }

    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.IsEmpty)
        {
            return 0;
        }

        var batch = Interlocked.Exchange(ref _pending, new ConcurrentDictionary<Key, Counter>());
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        foreach (var (key, counter) in batch)
        {
            db.AuditEvents.Add(new AuditEvent
            {
                Id = Guid.CreateVersion7(),
                Type = AuditEventTypes.AuthFailed,
                OccurredAt = counter.FirstAt,
                Address = key.Address is { } a ? (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).ToString() : null,
                Detail = key.Reason,
                Target = key.Hint,
                Count = Volatile.Read(ref counter.Count),
            });
        }

        await db.SaveChangesAsync(cancellationToken);
        Log.Flushed(logger, batch.Count);
        return batch.Count;
    }

    private readonly record struct Key(IPAddress? Address, string Reason, string? Hint);

    private sealed class Counter(DateTime firstAt)
    {
        public int Count;

        public DateTime FirstAt { get; } = firstAt;
    }

    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Debug, "Wrote {Count} auth.failed audit events")]
        public static partial void Flushed(ILogger logger, int count);
    }
}

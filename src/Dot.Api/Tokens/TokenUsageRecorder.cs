using System.Collections.Concurrent;
using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Tokens;

/// <summary>One use of a token. The address is kept as the connection's object: no string per request.</summary>
public readonly record struct TokenUsage(DateTime At, System.Net.IPAddress? Address, string Via)
{
    public string? Ip => Address?.IsIPv4MappedToIPv6 == true ? Address.MapToIPv4().ToString() : Address?.ToString();
}

/// <summary>
/// Gathers <c>last_used_*</c> in memory and writes them in batches (API.md §7: within a minute,
/// without a database write per request). Flushed periodically (<see cref="Infrastructure.PeriodicFlusher{T}"/>) and on shutdown.
/// </summary>
public sealed partial class TokenUsageRecorder(IServiceScopeFactory scopes, ILogger<TokenUsageRecorder> logger) : IBatchWriter
{
    private ConcurrentDictionary<Guid, TokenUsage> _pending = new();

    /// <summary>
    /// Notes a use. A use within a second of the one already noted, by the same way from the same
    /// address, changes nothing worth a write: it is skipped, so a busy token costs a lookup, not a store.
    /// </summary>
    public void Record(Guid tokenId, TokenUsage usage)
    {
        // Pending uses are shown in token lists before they are written: with the time the store will keep.
        usage = usage with { At = StoredTime.Truncate(usage.At) };
        if (_pending.TryGetValue(tokenId, out var noted) && usage.At - noted.At < TimeSpan.FromSeconds(1)
            && ReferenceEquals(noted.Via, usage.Via) && Equals(noted.Address, usage.Address))
        {
            return;
        }

        _pending[tokenId] = usage;
    }

    /// <summary>What this instance saw but has not written yet, for lists that want to be fresh.</summary>
    public bool TryGetPending(Guid tokenId, out TokenUsage usage) => _pending.TryGetValue(tokenId, out usage);

    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.IsEmpty)
        {
            return 0;
        }

        var batch = Interlocked.Exchange(ref _pending, new ConcurrentDictionary<Guid, TokenUsage>());
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        var written = 0;
        try
        {
            foreach (var (id, usage) in batch)
            {
                var ip = usage.Ip;
                written += await db.ApiTokens
                    .Where(t => t.Id == id && (t.LastUsedAt == null || t.LastUsedAt < usage.At))
                    .ExecuteUpdateAsync(s => s
                        .SetProperty(t => t.LastUsedAt, usage.At)
                        .SetProperty(t => t.LastUsedIp, ip)
                        .SetProperty(t => t.LastUsedVia, usage.Via), cancellationToken);
            }
        }
        catch
        {
            // Keep what was not written for the next batch; a newer use recorded meanwhile wins.
            foreach (var (id, usage) in batch)
            {
                _pending.TryAdd(id, usage);
            }

            throw;
        }

        Log.Flushed(logger, batch.Count, written);
        return written;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Wrote last-used data of {Count} tokens ({Written} rows changed)")]
        public static partial void Flushed(ILogger logger, int count, int written);
    }
}

using Dot.Api.Catalog;
using Dot.Api.Connectors;
using Dot.Api.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dot.Api.Sync;

/// <summary>
/// The run table as the <see cref="SyncWorker"/> sees it: claims a queued run, closes it as succeeded or failed,
/// puts it back in the queue, heart-beats the runs this instance carries out and re-queues those nobody does any more.
/// Every change is one conditional UPDATE on the run's status and owner (<c>Dot:Sync:InstanceName</c>), so two
/// instances never take, close or re-queue the same run twice. Scoped: the worker takes one per step, in a scope of its own.
/// </summary>
internal sealed class SyncRunStore(
    DotDbContext db,
    CatalogStore catalogs,
    IEnumerable<ISyncSucceededHandler> succeededHandlers,
    TimeProvider time,
    IOptions<SyncOptions> options)
{
    private readonly SyncOptions _options = options.Value;

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>The oldest queued run, taken with a conditional UPDATE; null when none is left.</summary>
    public async Task<SyncRun?> TryClaimAsync(CancellationToken cancellationToken)
    {
        var candidates = await db.SyncRuns.AsNoTracking()
            .Where(r => r.Status == SyncStatus.Queued)
            .OrderBy(r => r.RequestedAt)
            .Select(r => r.Id)
            .Take(8)
            .ToListAsync(cancellationToken);
        foreach (var id in candidates)
        {
            var now = Now;
            var claimed = await db.SyncRuns
                .Where(r => r.Id == id && r.Status == SyncStatus.Queued)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, SyncStatus.Running)
                    .SetProperty(r => r.StartedAt, now)
                    .SetProperty(r => r.ClaimedBy, _options.InstanceName)
                    .SetProperty(r => r.HeartbeatAt, now), cancellationToken);
            if (claimed == 1)
            {
                return await db.SyncRuns.AsNoTracking().FirstAsync(r => r.Id == id, cancellationToken);
            }
        }

        return null;
    }

    /// <summary>
    /// Marks the run succeeded (with <paramref name="outcome"/>) or failed (with <paramref name="error"/>) if this
    /// instance still holds it, and on success stores the catalogue it read in place of the connection's (through
    /// <see cref="CatalogStore"/>) and tells the <see cref="ISyncSucceededHandler"/>s, all in one transaction: a run is
    /// never succeeded without its catalogue, and a run closed elsewhere meanwhile (its connection deleted) stores
    /// nothing. Returns the number of runs closed (0 or 1). Not cancellable: a run that ended is closed, shutdown or not.
    /// </summary>
    public async Task<int> CloseAsync(SyncRun run, SyncOutcome? outcome, string? error, DateTime now)
    {
        var status = error is null ? SyncStatus.Succeeded : SyncStatus.Failed;
        int? schemas = outcome?.SchemasCount, tables = outcome?.TablesCount, columns = outcome?.ColumnsCount;
        return await db.TransactAsync(async (transaction, _) =>
        {
            var written = await db.SyncRuns
                .Where(r => r.Id == run.Id && r.Status == SyncStatus.Running && r.ClaimedBy == _options.InstanceName)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, status)
                    .SetProperty(r => r.FinishedAt, now)
                    .SetProperty(r => r.Error, error)
                    .SetProperty(r => r.HeartbeatAt, (DateTime?)null)
                    .SetProperty(r => r.SchemasCount, schemas)
                    .SetProperty(r => r.TablesCount, tables)
                    .SetProperty(r => r.ColumnsCount, columns), CancellationToken.None);
            if (written == 1 && status == SyncStatus.Succeeded && outcome is not null)
            {
                if (outcome.Catalog is { } catalog)
                {
                    await catalogs.ReplaceAsync(run.ConnectionType, run.ConnectionId, run.Id, now, catalog, CancellationToken.None);
                }

                foreach (var handler in succeededHandlers)
                {
                    await handler.OnSucceededAsync(run, outcome, now, CancellationToken.None);
                }
            }

            await transaction.CommitAsync(CancellationToken.None);
            return written;
        }, CancellationToken.None);
    }

    /// <summary>Puts a run this instance holds back in the queue (a shutdown interrupted it). Not cancellable.</summary>
    public Task RequeueAsync(Guid id)
        => db.SyncRuns
            .Where(r => r.Id == id && r.Status == SyncStatus.Running && r.ClaimedBy == _options.InstanceName)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, SyncStatus.Queued)
                .SetProperty(r => r.StartedAt, (DateTime?)null)
                .SetProperty(r => r.ClaimedBy, (string?)null)
                .SetProperty(r => r.HeartbeatAt, (DateTime?)null), CancellationToken.None);

    /// <summary>Renews the lease of the runs in <paramref name="ids"/> that this instance still holds.</summary>
    public Task HeartbeatAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var now = Now;
        return db.SyncRuns
            .Where(r => ids.Contains(r.Id) && r.Status == SyncStatus.Running && r.ClaimedBy == _options.InstanceName)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.HeartbeatAt, now), cancellationToken);
    }

    /// <summary>
    /// Puts back in the queue the runs nobody is carrying out any more (other than <paramref name="active"/>, this
    /// instance's): at start, those this instance left running; always, those whose heartbeat is older than the
    /// lease. Returns how many.
    /// </summary>
    public Task<int> RequeueAbandonedAsync(bool startup, IReadOnlyCollection<Guid> active, CancellationToken cancellationToken)
    {
        var staleBefore = Now - TimeSpan.FromSeconds(_options.LeaseSeconds);
        var instance = _options.InstanceName;
        var running = db.SyncRuns.Where(r => r.Status == SyncStatus.Running && !active.Contains(r.Id));
        var abandoned = startup
            ? running.Where(r => r.HeartbeatAt == null || r.HeartbeatAt < staleBefore || r.ClaimedBy == instance)
            : running.Where(r => r.HeartbeatAt == null || r.HeartbeatAt < staleBefore);
        return abandoned
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, SyncStatus.Queued)
                .SetProperty(r => r.StartedAt, (DateTime?)null)
                .SetProperty(r => r.ClaimedBy, (string?)null)
                .SetProperty(r => r.HeartbeatAt, (DateTime?)null), cancellationToken);
    }
}

using Dot.Api.Audit;
using Dot.Api.Data;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Sync;

/// <summary>Queues runs and reads them, for the API (and any later caller).</summary>
public sealed class SyncService(DotDbContext db, TimeProvider time, SyncSignal signal, AuditLog audit)
{
    private const int MaxAttempts = 5;

    /// <summary>
    /// Queues a run of the connection, or joins the one that is queued or running. Decided by the partial
    /// unique index on (connection_type, connection_id) over active runs: insert, and on a violation read the
    /// run that holds the index. If that run ended in between, insert again.
    /// </summary>
    public async Task<(SyncRun Run, bool Joined)> TriggerAsync(string type, string id, Guid? requestedBy,
        CancellationToken cancellationToken)
    {
        var (run, joined) = await QueueOrJoinAsync(type, id, requestedBy, cancellationToken);
        audit.Add(AuditEventTypes.SyncRequested, requestedBy, $"{type}/{id}", $"{(joined ? "joined" : "queued")} {run.Id}");
        await db.SaveChangesAsync(cancellationToken);
        return (run, joined);
    }

    private async Task<(SyncRun Run, bool Joined)> QueueOrJoinAsync(string type, string id, Guid? requestedBy,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var run = new SyncRun
            {
                Id = Guid.CreateVersion7(),
                ConnectionType = type,
                ConnectionId = id,
                Status = SyncStatus.Queued,
                RequestedAt = time.GetUtcNow().UtcDateTime,
                RequestedBy = requestedBy,
            };
            db.SyncRuns.Add(run);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                db.Entry(run).State = EntityState.Detached;
                signal.Notify();
                return (run, false);
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
            {
                db.Entry(run).State = EntityState.Detached;
                var active = await ActiveRunAsync(type, id, cancellationToken);
                if (active is not null)
                {
                    return (active, true);
                }

                if (attempt == MaxAttempts)
                {
                    throw;
                }
            }
        }
    }

    public Task<SyncRun?> ActiveRunAsync(string type, string id, CancellationToken cancellationToken)
        => db.SyncRuns.AsNoTracking()
            .Where(r => r.ConnectionType == type && r.ConnectionId == id
                && (r.Status == SyncStatus.Queued || r.Status == SyncStatus.Running))
            .FirstOrDefaultAsync(cancellationToken);

    public Task<SyncRun?> FindAsync(Guid id, CancellationToken cancellationToken)
        => db.SyncRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
}

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
    /// unique index on (connection_type, connection_id) over active runs: one <c>INSERT … ON CONFLICT DO NOTHING</c>
    /// (the same statement on SQLite and PostgreSQL), and when it inserted nothing, read the run that holds the
    /// index — a join is an ordinary answer, not a failed save. If that run ended in between, insert again.
    /// </summary>
    public async Task<(SyncRun Run, bool Joined)> TriggerAsync(string type, string id, Guid? requestedBy,
        CancellationToken cancellationToken)
    {
        var (run, joined) = await RecordTriggerAsync(type, id, requestedBy, null, cancellationToken);
        if (!joined)
        {
            WakeWorker();
        }

        return (run, joined);
    }

    /// <summary>
    /// <see cref="TriggerAsync"/> inside the caller's transaction: queues or joins and audits, but does not wake the
    /// worker, which would look before the run is committed; the caller calls <see cref="WakeWorker"/> after its commit.
    /// </summary>
    internal async Task<(SyncRun Run, bool Joined)> RecordTriggerAsync(string type, string id, Guid? requestedBy, string? eventId,
        CancellationToken cancellationToken)
    {
        var (run, joined) = await QueueOrJoinAsync(type, id, requestedBy, cancellationToken);
        var detail = $"{(joined ? "joined" : "queued")} {run.Id}" + (eventId is null ? "" : $" for webhook event {eventId}");
        audit.Add(AuditEventTypes.SyncRequested, requestedBy, $"{type}/{id}", detail);
        await db.SaveChangesAsync(cancellationToken);
        return (run, joined);
    }

    /// <summary>Tells this instance's worker a run was queued.</summary>
    public void WakeWorker() => signal.Notify();

    private async Task<(SyncRun Run, bool Joined)> QueueOrJoinAsync(string type, string id, Guid? requestedBy,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var runId = Guid.CreateVersion7();
            var requestedAt = StoredTime.Truncate(time.GetUtcNow().UtcDateTime); // raw SQL: no value converter on the way
            var queued = SyncStatus.Queued.ToName();
            var inserted = await db.SyncRuns.FromSql($"""
                INSERT INTO sync_runs ("Id", "ConnectionType", "ConnectionId", "Status", "RequestedAt", "RequestedBy")
                VALUES ({runId}, {type}, {id}, {queued}, {requestedAt}, {requestedBy})
                ON CONFLICT DO NOTHING
                RETURNING *
                """).AsNoTracking().ToListAsync(cancellationToken);
            if (inserted.Count == 1)
            {
                return (inserted[0], false);
            }

            if (await ActiveRunAsync(type, id, cancellationToken) is { } active)
            {
                return (active, true);
            }

            if (attempt == MaxAttempts)
            {
                throw new InvalidOperationException($"Could not queue or join a sync of {type}/{id} after {MaxAttempts} attempts.");
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

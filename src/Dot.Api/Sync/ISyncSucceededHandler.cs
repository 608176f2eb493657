using Dot.Api.Connectors;

namespace Dot.Api.Sync;

/// <summary>
/// Told when a run succeeds, inside the transaction that marks it succeeded, after the worker has stored the run's
/// catalogue: a handler that throws fails the run and rolls the catalogue back with it.
/// </summary>
public interface ISyncSucceededHandler
{
    Task OnSucceededAsync(SyncRun run, SyncOutcome outcome, DateTime finishedAt, CancellationToken cancellationToken);
}

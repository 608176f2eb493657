using Dot.Api.Assets;
using Dot.Api.Connections;
using Dot.Api.Connectors;
using Dot.Api.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dot.Api.Sync;

public static class SyncExtensions
{
    /// <summary>
    /// Sync runs, their worker and its settings (<c>Dot:Sync</c>). Connectors (<see cref="ISyncConnector"/>) are
    /// registered by whoever provides them; without one for a type, runs of that type fail saying so. A run that
    /// succeeds stores its catalogue through <see cref="Catalog.CatalogStore"/>, so <c>AddCatalog</c> goes with it.
    /// </summary>
    public static IServiceCollection AddSync(this IServiceCollection services)
    {
        services.AddOptions<SyncOptions>()
            .BindConfiguration(SyncOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SyncOptions>, SyncOptionsValidator>();
        services.AddSingleton<SyncSignal>();
        services.AddScoped<SyncService>();
        services.AddScoped<SyncRunStore>();
        services.AddScoped<IConnectionDeletionHandler, EndRunsOfDeletedConnection>();
        services.AddScoped<ISyncSucceededHandler, ImportExternalAssets>();
        services.AddHostedService<SyncWorker>();
        services.AddWebhookDeliveries();
        return services;
    }
}

/// <summary>
/// Deleting a connection ends its queued and running runs as failed ("the connection was deleted"), in the
/// deleting transaction; finished runs are kept as history. A connector still running on some instance
/// finishes, but its outcome is discarded (the worker only closes runs that are still running).
/// </summary>
internal sealed class EndRunsOfDeletedConnection(DotDbContext db, TimeProvider time) : IConnectionDeletionHandler
{
    public const string Error = "the connection was deleted";

    public async Task OnDeletedAsync(string type, string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.SyncRuns
            .Where(r => r.ConnectionType == type && r.ConnectionId == id
                && (r.Status == SyncStatus.Queued || r.Status == SyncStatus.Running))
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, SyncStatus.Failed)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, Error)
                .SetProperty(r => r.HeartbeatAt, (DateTime?)null), cancellationToken);
    }
}

/// <summary>
/// A successful run's <see cref="SyncOutcome.ExternalAssets"/> (a Looker connection's dashboards and Looks) are
/// imported in the transaction that marks it succeeded, through <see cref="AssetService.ImportAsync"/>: the one upsert
/// the import endpoint uses, so an asset from a sync and one sent by a client are the same row, overwritten alike.
/// The service shares this scope's DbContext, hence its transaction: a failure rolls back the catalogue and the run.
/// </summary>
internal sealed class ImportExternalAssets(AssetService assets) : ISyncSucceededHandler
{
    public async Task OnSucceededAsync(SyncRun run, SyncOutcome outcome, DateTime finishedAt, CancellationToken cancellationToken)
    {
        foreach (var asset in outcome.ExternalAssets ?? [])
        {
            await assets.ImportAsync(asset, cancellationToken);
        }
    }
}

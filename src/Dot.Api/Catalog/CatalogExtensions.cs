using Dot.Api.Connections;
using Dot.Api.Sync;

namespace Dot.Api.Catalog;

public static class CatalogExtensions
{
    /// <summary>The catalogue store, kept by successful syncs and dropped with its connection.</summary>
    public static IServiceCollection AddCatalog(this IServiceCollection services)
    {
        services.AddScoped<CatalogStore>();
        services.AddScoped<ISyncSucceededHandler, StoreCatalogOfSucceededRun>();
        services.AddScoped<IConnectionDeletionHandler, DeleteCatalogOfDeletedConnection>();
        return services;
    }
}

/// <summary>A run that succeeded with a catalogue replaces the connection's, in the transaction that marks it succeeded.</summary>
internal sealed class StoreCatalogOfSucceededRun(CatalogStore store) : ISyncSucceededHandler
{
    public async Task OnSucceededAsync(SyncRun run, SyncOutcome outcome, DateTime finishedAt, CancellationToken cancellationToken)
    {
        if (outcome.Catalog is { } catalog)
        {
            await store.ReplaceAsync(run.ConnectionType, run.ConnectionId, run.Id, finishedAt, catalog, cancellationToken);
        }
    }
}

/// <summary>Deleting a connection deletes its catalogue, in the deleting transaction.</summary>
internal sealed class DeleteCatalogOfDeletedConnection(CatalogStore store) : IConnectionDeletionHandler
{
    public Task OnDeletedAsync(string type, string id, CancellationToken cancellationToken)
        => store.DeleteAsync(type, id, cancellationToken);
}

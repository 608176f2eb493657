using Dot.Api.Connections;

namespace Dot.Api.Catalog;

public static class CatalogExtensions
{
    /// <summary>
    /// The catalogue store, written by the sync worker when a run succeeds (Sync depends on Catalog, never the other
    /// way) and dropped with its connection.
    /// </summary>
    public static IServiceCollection AddCatalog(this IServiceCollection services)
    {
        services.AddScoped<CatalogStore>();
        services.AddScoped<IConnectionDeletionHandler, DeleteCatalogOfDeletedConnection>();
        return services;
    }
}

/// <summary>Deleting a connection deletes its catalogue, in the deleting transaction.</summary>
internal sealed class DeleteCatalogOfDeletedConnection(CatalogStore store) : IConnectionDeletionHandler
{
    public Task OnDeletedAsync(string type, string id, CancellationToken cancellationToken)
        => store.DeleteAsync(type, id, cancellationToken);
}

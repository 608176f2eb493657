using Dot.Api.Connectors;

namespace Dot.Api.Catalog;

/// <summary>
/// <c>GET /api/connections/{type}/{id}/catalog</c>. A connection never synced has <c>sync_id</c> and <c>synced_at</c>
/// null and no schemas.
/// </summary>
public sealed record CatalogDto(
    string ConnectionType,
    string ConnectionId,
    Guid? SyncId,
    DateTime? SyncedAt,
    IReadOnlyList<CatalogSchema> Schemas);

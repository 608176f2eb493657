using Dot.Api.Connectors;
using Dot.Api.Data;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Catalog;

/// <summary>Writes and reads connections' catalogues.</summary>
public sealed class CatalogStore(DotDbContext db)
{
    /// <summary>
    /// Deletes the connection's catalogue and inserts <paramref name="snapshot"/> in its place. Call it inside a
    /// transaction (the sync worker's, which also marks the run succeeded): readers then see the old catalogue or
    /// the new one, never a mix.
    /// </summary>
    public async Task ReplaceAsync(string type, string id, Guid syncId, DateTime syncedAt, CatalogSnapshot snapshot,
        CancellationToken cancellationToken)
    {
        await DeleteAsync(type, id, cancellationToken);
        var catalog = new StoredCatalog { ConnectionType = type, ConnectionId = id, SyncId = syncId, SyncedAt = syncedAt };
        foreach (var schema in snapshot.Schemas)
        {
            var storedSchema = new StoredSchema { Id = Guid.CreateVersion7(), ConnectionType = type, ConnectionId = id, Name = schema.Name,
                Database = schema.Database, Description = schema.Description };
            foreach (var table in schema.Tables)
            {
                var storedTable = new StoredTable
                {
                    Id = Guid.CreateVersion7(),
                    SchemaId = storedSchema.Id,
                    ConnectionType = type,
                    ConnectionId = id,
                    Name = table.Name,
                    Kind = table.Kind,
                    Description = table.Description,
                };
                foreach (var column in table.Columns)
                {
                    storedTable.Columns.Add(new StoredColumn
                    {
                        Id = Guid.CreateVersion7(),
                        TableId = storedTable.Id,
                        ConnectionType = type,
                        ConnectionId = id,
                        Name = column.Name,
                        DataType = column.DataType,
                        Nullable = column.Nullable,
                        Position = column.Position,
                        Description = column.Description,
                    });
                }

                storedSchema.Tables.Add(storedTable);
            }

            catalog.Schemas.Add(storedSchema);
        }

        // Thousands of new rows and nothing to compare them with: skip the change tracker's scans.
        var autoDetect = db.ChangeTracker.AutoDetectChangesEnabled;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        try
        {
            db.Add(catalog);
            await db.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = autoDetect;
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>Deletes the connection's catalogue, if any (children first, so no foreign-key cascade is needed).</summary>
    public async Task DeleteAsync(string type, string id, CancellationToken cancellationToken)
    {
        await db.CatalogColumns.Where(c => c.ConnectionType == type && c.ConnectionId == id).ExecuteDeleteAsync(cancellationToken);
        await db.CatalogTables.Where(t => t.ConnectionType == type && t.ConnectionId == id).ExecuteDeleteAsync(cancellationToken);
        await db.CatalogSchemas.Where(s => s.ConnectionType == type && s.ConnectionId == id).ExecuteDeleteAsync(cancellationToken);
        await db.Catalogs.Where(c => c.ConnectionType == type && c.ConnectionId == id).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// The connection's catalogue, or null when it was never synced. One SQL statement (a single query over the
    /// header and its joined rows), so it reads one snapshot of the database even while a sync replaces it.
    /// </summary>
    public async Task<CatalogDto?> ReadAsync(string type, string id, CancellationToken cancellationToken)
    {
        var stored = await db.Catalogs.AsNoTracking()
            .Where(c => c.ConnectionType == type && c.ConnectionId == id)
            .Include(c => c.Schemas).ThenInclude(s => s.Tables).ThenInclude(t => t.Columns)
            .AsSingleQuery()
            .FirstOrDefaultAsync(cancellationToken);
        if (stored is null)
        {
            return null;
        }

        var schemas = stored.Schemas
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .ThenBy(s => s.Database, StringComparer.Ordinal)
            .Select(s => new CatalogSchema(s.Name, s.Database, s.Description, s.Tables
                .OrderBy(t => t.Name, StringComparer.Ordinal)
                .Select(t => new CatalogTable(t.Name, t.Kind, t.Description, t.Columns
                    .OrderBy(c => c.Position).ThenBy(c => c.Name, StringComparer.Ordinal)
                    .Select(c => new CatalogColumn(c.Name, c.DataType, c.Nullable, c.Position, c.Description))
                    .ToList()))
                .ToList()))
            .ToList();
        return new CatalogDto(type, id, stored.SyncId, stored.SyncedAt, schemas);
    }
}

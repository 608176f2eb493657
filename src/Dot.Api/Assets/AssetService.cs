using Dot.Api.Connectors;
using Dot.Api.Data;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Assets;

/// <summary>Importing (insert or overwrite), listing and deleting external assets.</summary>
public sealed class AssetService(DotDbContext db, TimeProvider time)
{
    /// <summary>
    /// Inserts the asset, or overwrites every field of the stored one with the same id, in one
    /// statement: the database decides, so concurrent imports of one id never collide. The asset was checked by
    /// <see cref="ExternalAssetImport.Validate"/> (the endpoint's, or a connector's).
    /// </summary>
    public async Task<(ExternalAsset Asset, bool Created)> ImportAsync(ExternalAssetImport a, CancellationToken cancellationToken)
    {
        // Raw SQL: no value converter on the way, so the times are made what the store keeps here (StoredTime).
        var now = StoredTime.Truncate(time.GetUtcNow().UtcDateTime);
        DateTime? lastAccessedAt = a.LastAccessedAt is { } at ? StoredTime.Truncate(at) : null;
        var rows = await db.ExternalAssets.FromSql($"""
            INSERT INTO external_assets ("Id", "Subtype", "Folder", "Name", "Description", "Url", "Active",
                "ViewCount", "LastAccessedAt", "DotDescription", "CreatedAt", "UpdatedAt", "Revision")
            VALUES ({a.Id}, {a.Subtype}, {a.Folder}, {a.Name}, {a.Description}, {a.Url}, {a.Active},
                {a.ViewCount}, {lastAccessedAt}, {a.DotDescription}, {now}, {now}, 1)
            ON CONFLICT ("Id") DO UPDATE SET
                "Subtype" = excluded."Subtype",
                "Folder" = excluded."Folder",
                "Name" = excluded."Name",
                "Description" = excluded."Description",
                "Url" = excluded."Url",
                "Active" = excluded."Active",
                "ViewCount" = excluded."ViewCount",
                "LastAccessedAt" = excluded."LastAccessedAt",
                "DotDescription" = excluded."DotDescription",
                "UpdatedAt" = excluded."UpdatedAt",
                "Revision" = external_assets."Revision" + 1
            RETURNING *
            """).AsNoTracking().ToListAsync(cancellationToken);
        var stored = rows.Single();
        return (stored, stored.Revision == 1);
    }

    /// <summary>Ordered by id; <paramref name="after"/> is the last id of the previous page.</summary>
    public async Task<List<ExternalAsset>> ListAsync(string? subtype, string? folder, bool? active, int take, string? after,
        CancellationToken cancellationToken)
    {
        var query = db.ExternalAssets.AsNoTracking();
        if (subtype is not null)
        {
            query = query.Where(a => a.Subtype == subtype);
        }

        if (folder is not null)
        {
            query = query.Where(a => a.Folder == folder);
        }

        if (active is { } isActive)
        {
            query = query.Where(a => a.Active == isActive);
        }

        // Ordinal order, not the database's collation (an en_US PostgreSQL puts "a_b" after "aB"): the cursor's
        // comparison and the order must agree on every store, or a page skips or repeats rows.
        var ordinal = db.OrdinalCollation;
        if (after is not null)
        {
            query = query.Where(a => EF.Functions.Collate(a.Id, ordinal).CompareTo(after) > 0);
        }

        return await query.OrderBy(a => EF.Functions.Collate(a.Id, ordinal)).Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>Whether there was an asset with that id to delete.</summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
        => await db.ExternalAssets.Where(a => a.Id == id).ExecuteDeleteAsync(cancellationToken) > 0;
}

using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Assets;

/// <summary>Importing (insert or overwrite), listing and deleting external assets.</summary>
public sealed class AssetService(DotDbContext db, TimeProvider time)
{
    private const string Prefix = "external_asset.";

    /// <summary>
    /// Checks an asset as the client sent it and builds the row that replaces any stored one.
    /// Field errors are keyed as sent: <c>external_asset.url</c>.
    /// </summary>
    public static ExternalAsset? Validate(ExternalAssetInput? input, FieldErrors errors)
    {
        if (input is null)
        {
            errors.Add("external_asset", "external_asset is required.");
            return null;
        }

        if (string.IsNullOrWhiteSpace(input.Id))
        {
            errors.Add(Prefix + "id", "id is required.");
        }
        else if (input.Id.Length > ExternalAsset.MaxIdLength || input.Id.Any(char.IsControl))
        {
            errors.Add(Prefix + "id", $"id must be 1 to {ExternalAsset.MaxIdLength} characters, without control characters.");
        }

        if (string.IsNullOrWhiteSpace(input.Name))
        {
            errors.Add(Prefix + "name", "name is required.");
        }

        CheckLength(input.Name, "name", ExternalAsset.MaxNameLength, errors);
        CheckLength(input.Subtype, "subtype", ExternalAsset.MaxSubtypeLength, errors);
        CheckLength(input.Folder, "folder", ExternalAsset.MaxFolderLength, errors);
        CheckLength(input.Description, "description", ExternalAsset.MaxDescriptionLength, errors);
        CheckLength(input.DotDescription, "dot_description", ExternalAsset.MaxDescriptionLength, errors);
        if (input.Url is not null && (input.Url.Length > ExternalAsset.MaxUrlLength || !IsHttpUrl(input.Url)))
        {
            errors.Add(Prefix + "url", $"url must be an absolute http or https URL of at most {ExternalAsset.MaxUrlLength} characters.");
        }

        if (input.ViewCount is < 0)
        {
            errors.Add(Prefix + "view_count", "view_count must not be negative.");
        }

        if (!errors.IsEmpty)
        {
            return null;
        }

        return new ExternalAsset
        {
            Id = input.Id!,
            Subtype = input.Subtype,
            Folder = input.Folder,
            Name = input.Name!,
            Description = input.Description,
            Url = input.Url,
            Active = input.Active ?? true,
            ViewCount = input.ViewCount ?? 0,
            LastAccessedAt = input.LastAccessedAt is { } at ? ToUtc(at) : null,
            DotDescription = input.DotDescription,
        };
    }

    /// <summary>
    /// Inserts the asset, or overwrites every field of the stored one with the same id, in one
    /// statement: the database decides, so concurrent imports of one id never collide.
    /// </summary>
    public async Task<(ExternalAsset Asset, bool Created)> ImportAsync(ExternalAsset a, CancellationToken cancellationToken)
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

    private static void CheckLength(string? value, string field, int max, FieldErrors errors)
    {
        if (value is { Length: var length } && length > max)
        {
            errors.Add(Prefix + field, $"{field} must be at most {max} characters.");
        }
    }

    private static bool IsHttpUrl(string url)
        => Uri.TryCreate(url, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && !string.IsNullOrEmpty(uri.Host);

    private static DateTime ToUtc(DateTime value)
        => value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc);
}


namespace Dot.Api.Assets;

/// <summary>
/// An asset that lives outside Dot (a dashboard, a report, a notebook) imported so that Dot can
/// point to it. Its <see cref="Id"/> is the client's own identifier, not one Dot makes up. The import's fields and
/// their limits are <see cref="Connectors.ExternalAssetImport"/>'s.
/// </summary>
public sealed class ExternalAsset
{
    public required string Id { get; set; }

    public string? Subtype { get; set; }

    public string? Folder { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public string? Url { get; set; }

    public bool Active { get; set; } = true;

    public long ViewCount { get; set; }

    public DateTime? LastAccessedAt { get; set; }

    public string? DotDescription { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>1 when first imported, one more on every overwrite: tells "created" from "updated" atomically.</summary>
    public int Revision { get; set; }
}

namespace Dot.Api.Assets;

/// <summary>
/// An asset that lives outside Dot (a dashboard, a report, a notebook) imported so that Dot can
/// point to it. Its <see cref="Id"/> is the client's own identifier, not one Dot makes up.
/// </summary>
public sealed class ExternalAsset
{
    public const int MaxIdLength = 200;
    public const int MaxSubtypeLength = 100;
    public const int MaxFolderLength = 500;
    public const int MaxNameLength = 500;
    public const int MaxDescriptionLength = 10_000;
    public const int MaxUrlLength = 2048;

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

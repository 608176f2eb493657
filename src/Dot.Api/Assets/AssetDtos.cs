using Dot.Api.Connectors;

namespace Dot.Api.Assets;

/// <summary>The body of <c>POST /api/import_and_overwrite_external_asset</c>.</summary>
public sealed record ImportExternalAssetRequest(ExternalAssetInput? ExternalAsset);

public sealed record ExternalAssetDto(
    string Id,
    string? Subtype,
    string? Folder,
    string Name,
    string? Description,
    string? Url,
    bool Active,
    long ViewCount,
    DateTime? LastAccessedAt,
    string? DotDescription,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary><c>status</c> is <c>created</c> or <c>updated</c>.</summary>
public sealed record ImportExternalAssetResponse(string Status, ExternalAssetDto ExternalAsset);

internal static class AssetMapping
{
    public static ExternalAssetDto ToDto(this ExternalAsset a) => new(
        a.Id, a.Subtype, a.Folder, a.Name, a.Description, a.Url, a.Active, a.ViewCount, a.LastAccessedAt,
        a.DotDescription, a.CreatedAt, a.UpdatedAt);
}

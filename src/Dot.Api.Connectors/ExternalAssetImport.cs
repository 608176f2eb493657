using Dot.Api.Validation;

namespace Dot.Api.Connectors;

/// <summary>
/// An asset as a client sends it to <c>POST /api/import_and_overwrite_external_asset</c>, or as a connector reads it
/// from its source (a Looker dashboard). Every field it leaves out is reset on overwrite.
/// </summary>
public sealed record ExternalAssetInput(
    string? Id,
    string? Subtype,
    string? Folder,
    string? Name,
    string? Description,
    string? Url,
    bool? Active,
    long? ViewCount,
    DateTime? LastAccessedAt,
    string? DotDescription);

/// <summary>
/// An external asset checked for import: every field of the stored asset with its <see cref="Id"/> (the client's own
/// identifier, not one Dot makes up), which the import overwrites, or of a new one. Made only by <see cref="Validate"/>,
/// the one check that the import endpoint and the connectors (<see cref="SyncOutcome.ExternalAssets"/>) both go through.
/// </summary>
public sealed class ExternalAssetImport
{
    public const int MaxIdLength = 200;
    public const int MaxSubtypeLength = 100;
    public const int MaxFolderLength = 500;
    public const int MaxNameLength = 500;
    public const int MaxDescriptionLength = 10_000;
    public const int MaxUrlLength = 2048;

    private const string Prefix = "external_asset.";

    private ExternalAssetImport(ExternalAssetInput input)
    {
        Id = input.Id!;
        Subtype = input.Subtype;
        Folder = input.Folder;
        Name = input.Name!;
        Description = input.Description;
        Url = input.Url;
        Active = input.Active ?? true;
        ViewCount = input.ViewCount ?? 0;
        LastAccessedAt = input.LastAccessedAt is { } at ? ToUtc(at) : null;
        DotDescription = input.DotDescription;
    }

    public string Id { get; }

    public string? Subtype { get; }

    public string? Folder { get; }

    public string Name { get; }

    public string? Description { get; }

    public string? Url { get; }

    public bool Active { get; }

    public long ViewCount { get; }

    /// <summary>In UTC (a local time given is converted; an unspecified one is taken as UTC).</summary>
    public DateTime? LastAccessedAt { get; }

    public string? DotDescription { get; }

    /// <summary>
    /// Checks an asset as the client sent it and builds what replaces any stored one; null, with errors added, when it
    /// cannot be imported. Field errors are keyed as sent: <c>external_asset.url</c>.
    /// </summary>
    public static ExternalAssetImport? Validate(ExternalAssetInput? input, FieldErrors errors)
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
        else if (input.Id.Length > MaxIdLength || input.Id.Any(char.IsControl))
        {
            errors.Add(Prefix + "id", $"id must be 1 to {MaxIdLength} characters, without control characters.");
        }

        if (string.IsNullOrWhiteSpace(input.Name))
        {
            errors.Add(Prefix + "name", "name is required.");
        }

        CheckLength(input.Name, "name", MaxNameLength, errors);
        CheckLength(input.Subtype, "subtype", MaxSubtypeLength, errors);
        CheckLength(input.Folder, "folder", MaxFolderLength, errors);
        CheckLength(input.Description, "description", MaxDescriptionLength, errors);
        CheckLength(input.DotDescription, "dot_description", MaxDescriptionLength, errors);
        if (input.Url is not null && (input.Url.Length > MaxUrlLength || !IsHttpUrl(input.Url)))
        {
            errors.Add(Prefix + "url", $"url must be an absolute http or https URL of at most {MaxUrlLength} characters.");
        }

        if (input.ViewCount is < 0)
        {
            errors.Add(Prefix + "view_count", "view_count must not be negative.");
        }

        return errors.IsEmpty ? new ExternalAssetImport(input) : null;
    }

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

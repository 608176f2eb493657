namespace Dot.Api.Connections;

/// <summary>
/// A source Dot reads metadata from, keyed by (<see cref="Type"/>, <see cref="Id"/>).
/// <see cref="Settings"/> is plain JSON; the secrets are one Data Protection ciphertext, and only
/// their names are kept in the clear so lists never need to decrypt.
/// </summary>
public sealed class Connection
{
    public const int MaxNameLength = 200;

    public required string Type { get; set; }

    public required string Id { get; set; }

    public required string Name { get; set; }

    /// <summary>A JSON object whose values are strings, numbers or booleans.</summary>
    public required string Settings { get; set; }

    /// <summary>A JSON array of the secrets' names (sorted): never a value.</summary>
    public required string SecretNames { get; set; }

    /// <summary>The secrets as a JSON object, protected by <see cref="ConnectionSecrets"/>; null when there are none.</summary>
    public byte[]? Secrets { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public Guid? CreatedBy { get; set; }

    /// <summary>"type/id", how people and the CLI name a connection.</summary>
    public string Key => $"{Type}/{Id}";
}

/// <summary>The connection types of API.md §4.</summary>
public static class ConnectionTypes
{
    public const int MaxIdLength = 64;

    public static readonly IReadOnlyList<string> All =
        ["postgres", "redshift", "snowflake", "mssql", "bigquery", "databricks", "looker", "dbt"];

    public static bool IsKnown(string? type) => type is not null && All.Contains(type, StringComparer.Ordinal);

    public static string Listed => string.Join(", ", All);

    /// <summary>Lowercase letters, digits, '-' and '_', 1–64 characters (e.g. <c>my-bg-id</c>).</summary>
    public static bool IsSlug(string? id)
        => id is { Length: > 0 and <= MaxIdLength }
            && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');
}

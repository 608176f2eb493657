using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Dot.Api.Infrastructure;

/// <summary>A page of a list: <c>{"items": [...], "next_cursor": null}</c> (API.md §4).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// Keyset cursor over (created_at, id): stable under inserts, cheap on an index.
/// The cursor is opaque to clients (base64url of "ticks:id").
/// </summary>
public readonly record struct Cursor(DateTime CreatedAt, Guid Id)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public string Encode()
        => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"{CreatedAt.Ticks}:{Id:N}")));

    public static bool TryDecode(string? text, out Cursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        try
        {
            var parts = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(text)).Split(':');
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks && Guid.TryParseExact(parts[1], "N", out var id))
            {
                cursor = new Cursor(new DateTime(ticks, DateTimeKind.Utc), id);
                return true;
            }
        }
        catch (FormatException)
        {
        }

        return false;
    }

    /// <summary>Checks <c>limit</c> and <c>cursor</c>; adds field errors when they are wrong.</summary>
    public static (int Limit, Cursor? After) Read(int? limit, string? cursor, FieldErrors errors)
    {
        if (!TryDecode(cursor, out var after))
        {
            errors.Add("cursor", "cursor is not one this server gave out.");
        }

        return (ReadLimit(limit, errors), after);
    }

    /// <summary>Checks <c>limit</c> (1–<see cref="MaxLimit"/>, default <see cref="DefaultLimit"/>).</summary>
    public static int ReadLimit(int? limit, FieldErrors errors)
    {
        if (limit is < 1 or > MaxLimit)
        {
            errors.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        }

        return limit ?? DefaultLimit;
    }
}

/// <summary>
/// Keyset cursor over a unique string key, for lists ordered by a client-chosen id
/// (external assets). Opaque to clients: base64url of the last key's UTF-8.
/// </summary>
public static class KeyCursor
{
    public static string Encode(string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key));

    /// <summary>Checks <c>limit</c> and <c>cursor</c>; adds field errors when they are wrong.</summary>
    public static (int Limit, string? After) Read(int? limit, string? cursor, FieldErrors errors)
    {
        string? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            try
            {
                after = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(cursor));
            }
            catch (FormatException)
            {
                errors.Add("cursor", "cursor is not one this server gave out.");
            }
            catch (ArgumentException)
            {
                errors.Add("cursor", "cursor is not one this server gave out.");
            }
        }

        return (Cursor.ReadLimit(limit, errors), after);
    }
}

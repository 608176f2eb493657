using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Mvc;

namespace Dot.Api.Infrastructure;

/// <summary>A page of a list: <c>{"items": [...], "next_cursor": null}</c> (API.md §4).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// The paging query every list takes, bound with <c>[AsParameters]</c>: <c>limit</c> (1–200, default 50) and
/// <c>cursor</c>, the previous page's <c>next_cursor</c>.
/// </summary>
public readonly record struct PageRequest([FromQuery(Name = "limit")] int? Limit, [FromQuery(Name = "cursor")] string? Cursor)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>
    /// How many rows to show, and the sort key after which the page starts (null on the first page), decoded by
    /// <paramref name="key"/>; wrong values are field errors (<c>limit</c>, <c>cursor</c>).
    /// </summary>
    public (int Take, TKey? After) Read<TKey>(KeysetKey<TKey> key, FieldErrors errors)
        where TKey : struct
    {
        if (Limit is < 1 or > MaxLimit)
        {
            errors.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        }

        TKey? after = null;
        if (!string.IsNullOrEmpty(Cursor))
        {
            if (KeysetCursor.Decode(Cursor) is { } parts && key.TryParse(parts, out var parsed))
            {
                after = parsed;
            }
            else
            {
                errors.Add("cursor", "cursor is not one this server gave out.");
            }
        }

        return (Limit ?? DefaultLimit, after);
    }
}

/// <summary>
/// The one keyset cursor: the sort key of a page's last row, as its parts (a time and an id, a type and an id, one
/// id…), opaque to clients — base64url of the parts joined by a newline, which no key part holds. Every list decodes
/// its cursor here, so what a client may send back is judged once (API.md §7: a forged cursor is a 422, never a 500).
/// </summary>
public static class KeysetCursor
{
    /// <summary>Longer than any cursor this server makes (the longest key, an asset id of 200 characters, makes about 800).</summary>
    public const int MaxLength = 1024;

    public static string Encode(params string[] parts) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join('\n', parts)));

    /// <summary>
    /// The parts of a cursor this server gave out; null for anything else: not base64url as <see cref="Encode"/> writes
    /// it (padding, stray bits), not UTF-8, or a part holding a control character — NUL above all, which PostgreSQL
    /// cannot take in a text parameter (22021) and no key of ours holds.
    /// </summary>
    public static string[]? Decode(string text)
    {
        if (text.Length > MaxLength)
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(text));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return null;
        }

        var parts = decoded.Split('\n');
        return parts.Any(p => p.Any(char.IsControl)) || !string.Equals(Encode(parts), text, StringComparison.Ordinal) ? null : parts;
    }
}

/// <summary>How a list's sort key becomes cursor parts and back.</summary>
public sealed class KeysetKey<TKey>(Func<TKey, string[]> format, KeysetKey<TKey>.Parser parse)
    where TKey : struct
{
    public delegate bool Parser(string[] parts, out TKey key);

    public string Encode(TKey key) => KeysetCursor.Encode(format(key));

    public bool TryParse(string[] parts, out TKey key) => parse(parts, out key);
}

/// <summary>The sort keys lists use, and <see cref="From"/>, which makes a page of take + 1 rows.</summary>
public static class Page
{
    /// <summary>(created_at, id): newest-first or oldest-first lists of rows with a time and a GUID.</summary>
    public static readonly KeysetKey<(DateTime At, Guid Id)> TimeAndId = new(
        k => [k.At.Ticks.ToString(CultureInfo.InvariantCulture), k.Id.ToString("N")],
        static (string[] parts, out (DateTime At, Guid Id) key) =>
        {
            key = default;
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks && Guid.TryParseExact(parts[1], "N", out var id))
            {
                key = (new DateTime(ticks, DateTimeKind.Utc), id);
                return true;
            }

            return false;
        });

    /// <summary>One text key (a client-chosen id).</summary>
    public static readonly KeysetKey<TextKey> Text = new(
        k => [k.Value],
        static (string[] parts, out TextKey key) =>
        {
            key = parts.Length == 1 && parts[0].Length > 0 ? new TextKey(parts[0]) : default;
            return parts.Length == 1 && parts[0].Length > 0;
        });

    /// <summary>
    /// The page of a list read with <c>take + 1</c> rows: the first <paramref name="take"/> mapped, and a cursor after the
    /// last of them when the extra row shows that more follow.
    /// </summary>
    public static Page<TDto> From<TRow, TDto, TKey>(IReadOnlyList<TRow> rows, int take, Func<TRow, TDto> map,
        KeysetKey<TKey> key, Func<TRow, TKey> keyOf)
        where TKey : struct
        => new(rows.Take(take).Select(map).ToList(), rows.Count > take ? key.Encode(keyOf(rows[take - 1])) : null);
}

/// <summary>A text sort key, as a value type so that "no cursor" is null.</summary>
public readonly record struct TextKey(string Value);

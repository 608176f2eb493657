
namespace Dot.Api.Access;

/// <summary>
/// The scope vocabulary of API.md §2: what a token may do, narrower than its owner's role. A token's scopes are kept
/// as a canonical list (sorted, unique, <see cref="Profile"/> always in it) or, for an unscoped token, as nothing at
/// all, which means everything the owner's role allows (<see cref="All"/> on the wire).
/// </summary>
public static class Scopes
{
    public const string All = "*";
    public const string Profile = "profile";
    public const string Tokens = "tokens";
    public const string Users = "users";
    public const string Connections = "connections";
    public const string Sync = "sync";
    public const string Assets = "assets";
    public const string History = "history";
    public const string Chats = "chats";
    public const string Audit = "audit";

    /// <summary>The most scopes one token may list, and the stored column's length (a bound on what the page and lookups carry).</summary>
    public const int MaxCount = 32;
    public const int MaxStoredLength = 4000;

    public static readonly IReadOnlyList<string> Known = [Profile, Tokens, Users, Connections, Sync, Assets, History, Chats, Audit];

    /// <summary><c>sync:&lt;type&gt;/&lt;id&gt;</c>: the scope that lets a token trigger and read runs of that one connection.</summary>
    public static string SyncOf(string connectionType, string connectionId) => $"{Sync}:{connectionType}/{connectionId}";

    /// <summary>The unscoped answer: what <c>scopes</c> says for a token without restriction (and for a web session).</summary>
    public static readonly IReadOnlyList<string> Unrestricted = [All];

    /// <summary>
    /// Reads a requested list: null, empty-free <c>["*"]</c> → null (unscoped); else the canonical list, with
    /// <see cref="Profile"/> added. An unknown scope is an error naming it.
    /// </summary>
    public static IReadOnlyList<string>? Parse(IReadOnlyList<string?>? requested, string field, Validation.FieldErrors errors,
        Func<string, bool> isConnectionType)
    {
        if (requested is null)
        {
            return null;
        }

        if (requested.Count > MaxCount)
        {
            errors.Add(field, $"{field} may list at most {MaxCount} scopes.");
            return null;
        }

        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var raw in requested)
        {
            var scope = raw?.Trim();
            if (scope == All)
            {
                if (requested.Count != 1)
                {
                    errors.Add(field, $"'{All}' means every scope the owner's role allows: give it alone.");
                    return null;
                }

                return null;
            }

            if (scope is null || !IsKnown(scope, isConnectionType))
            {
                errors.Add(field, $"Unknown scope '{raw}': the scopes are {string.Join(", ", Known)}, sync:<type>/<id>, or {All} alone.");
                return null;
            }

            set.Add(scope);
        }

        if (requested.Count == 0)
        {
            errors.Add(field, $"{field} must not be empty: leave it out, or give [\"{All}\"], for a token without restriction.");
            return null;
        }

        set.Add(Profile);
        return [.. set];
    }

    /// <summary>A word of the vocabulary, or <c>sync:&lt;type&gt;/&lt;id&gt;</c> with a type <paramref name="isConnectionType"/> knows and a slug id.</summary>
    public static bool IsKnown(string scope, Func<string, bool> isConnectionType)
    {
        if (Known.Contains(scope, StringComparer.Ordinal))
        {
            return true;
        }

        if (!scope.StartsWith(Sync + ":", StringComparison.Ordinal))
        {
            return false;
        }

        var target = scope[(Sync.Length + 1)..];
        var slash = target.IndexOf('/', StringComparison.Ordinal);
        var id = target[(slash + 1)..];
        return slash > 0
            && isConnectionType(target[..slash])
            && id.Length is > 0 and <= 64
            && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');
    }

    /// <summary>Whether <paramref name="granted"/> (null: unscoped) lets a request that needs <paramref name="needed"/> through;
    /// a <c>sync:&lt;t&gt;/&lt;i&gt;</c> need is met by <see cref="Sync"/> as well.</summary>
    public static bool Allows(IReadOnlySet<string>? granted, string needed)
        => granted is null
            || granted.Contains(needed)
            || (needed.StartsWith(Sync + ":", StringComparison.Ordinal) && granted.Contains(Sync));

    /// <summary>The scopes of <paramref name="requested"/> (null: everything) that <paramref name="granted"/> does not cover.</summary>
    public static IReadOnlyList<string> Missing(IReadOnlySet<string>? granted, IReadOnlyList<string>? requested)
    {
        if (granted is null)
        {
            return [];
        }

        return requested is null ? [All] : [.. requested.Where(s => !Allows(granted, s))];
    }

    /// <summary>The stored text (space-separated) of a canonical list; null for an unscoped token.</summary>
    public static string? ToStored(IReadOnlyList<string>? scopes) => scopes is null ? null : string.Join(' ', scopes);

    public static IReadOnlyList<string>? FromStored(string? stored)
        => string.IsNullOrEmpty(stored) ? null : stored.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>What a list shows: the canonical list, or <c>["*"]</c> for an unscoped token.</summary>
    public static IReadOnlyList<string> ToWire(string? stored) => FromStored(stored) ?? Unrestricted;
}

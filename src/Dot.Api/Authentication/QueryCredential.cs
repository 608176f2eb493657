namespace Dot.Api.Authentication;

/// <summary>
/// Reads one parameter from a raw query string without building the request's query collection:
/// the URL-token path needs two values, not a dictionary of every pair. Percent-encoded values
/// (<c>user_id=sync_user%40contoso.com</c>) and <c>+</c> for space are decoded as form encoding does.
/// </summary>
internal static class QueryCredential
{
    public static string? Find(QueryString query, string name)
    {
        var text = query.Value.AsSpan();
        if (text.IsEmpty)
        {
            return null;
        }

        if (text[0] == '?')
        {
            text = text[1..];
        }

        while (!text.IsEmpty)
        {
            var end = text.IndexOf('&');
            var pair = end < 0 ? text : text[..end];
            text = end < 0 ? [] : text[(end + 1)..];
            var equals = pair.IndexOf('=');
            var key = equals < 0 ? pair : pair[..equals];
            if (KeyEquals(key, name))
            {
                var value = equals < 0 ? [] : pair[(equals + 1)..];
                return value.ContainsAny('%', '+') ? Uri.UnescapeDataString(value.ToString().Replace('+', ' ')) : value.ToString();
            }
        }

        return null;
    }

    /// <summary>Keys compare case-insensitively, as ASP.NET Core's query collection does; an encoded key is decoded first.</summary>
    private static bool KeyEquals(ReadOnlySpan<char> key, string name)
        => key.Contains('%')
            ? string.Equals(Uri.UnescapeDataString(key.ToString()), name, StringComparison.OrdinalIgnoreCase)
            : key.Equals(name, StringComparison.OrdinalIgnoreCase);
}

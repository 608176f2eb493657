using System.Text.RegularExpressions;

namespace Dot.Api.Logging;

/// <summary>
/// Removes URL tokens and anything shaped like a Dot token from text bound for a log. A query
/// parameter is recognised by its key read percent-decoded (with <c>+</c> as a space), exactly
/// as the authentication handler reads it, so <c>api%5Ftoken=%64ot-…</c> is masked like
/// <c>api_token=dot-…</c> (API.md §3); a Dot token is recognised whatever of its characters are
/// percent-encoded.
/// </summary>
public static partial class SecretRedactor
{
    public const string Mask = "[REDACTED]";

    private const string QueryTokenKey = "api_token";

    // One key=value pair of a query string. A query string nested in another's value comes encoded (%3F, %26, %3D),
    // so a key also ends at those; the value runs to the next '&' and is searched again for nested pairs.
    [GeneratedRegex(@"(?<=^|[\s&?=;/""'#<>]|%2[6fF]|%3[fF])(?<key>(?:(?!%2[6fF]|%3[fF])[^\s&?=;/""'#<>])+)(?<eq>=|%3[dD])(?<value>[^&\s""'#<>]*)", RegexOptions.CultureInvariant)]
    private static partial Regex Parameter();

    // "dot-" and 16 or more hex digits, any character of it plain or percent-encoded (%64 is 'd', %2D '-', %3x a digit,
    // %4x/%6x a hex letter), in either letter case.
    [GeneratedRegex(@"(?:d|%64|%44)(?:o|%6f|%4f)(?:t|%74|%54)(?:-|%2d)(?:[0-9a-f]|%3[0-9]|%[46][1-6]){16,}",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex BareToken();

    /// <summary>Cheap test that lets most log lines through untouched: no key, no prefix, nothing encoded.</summary>
    public static bool MayContainSecret(string text)
        => text.Contains('%') || text.Contains("api_token", StringComparison.OrdinalIgnoreCase)
            || text.Contains("dot-", StringComparison.OrdinalIgnoreCase);

    public static string Redact(string text)
    {
        if (!MayContainSecret(text))
        {
            return text;
        }

        return BareToken().Replace(MaskQueryTokens(text), "dot-" + Mask);
    }

    private static string MaskQueryTokens(string text)
        => Parameter().Replace(text, static m =>
        {
            var key = m.Groups["key"].Value;
            var value = m.Groups["value"].Value;
            return IsQueryTokenKey(key) ? key + m.Groups["eq"].Value + Mask
                : value.Length > 0 ? key + m.Groups["eq"].Value + MaskQueryTokens(value)
                : m.Value;
        });

    /// <summary>The key as the handler compares it: percent-decoded, <c>+</c> a space, surrounding spaces ignored, any letter case.</summary>
    private static bool IsQueryTokenKey(string key)
    {
        if (key.Length < QueryTokenKey.Length)
        {
            return false;
        }

        if (key.Equals(QueryTokenKey, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!key.Contains('%') && !key.Contains('+'))
        {
            return false;
        }

        var decoded = key.Replace('+', ' ');
        // Decoded twice, so that a key encoded once more (api%255Ftoken) than the handler reads is masked as well.
        for (var pass = 0; pass < 2 && decoded.Contains('%'); pass++)
        {
            decoded = Uri.UnescapeDataString(decoded);
        }

        return decoded.Trim().Equals(QueryTokenKey, StringComparison.OrdinalIgnoreCase);
    }
}

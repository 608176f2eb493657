using System.Text.RegularExpressions;

namespace Dot.Api.Logging;

/// <summary>
/// Removes URL tokens and anything shaped like a Dot token from text bound for a log.
/// </summary>
public static partial class SecretRedactor
{
    public const string Mask = "[REDACTED]";

    // api_token=… in a query string, plain or percent-encoded ("api_token%3D…"), and any dot- token.
    [GeneratedRegex(@"(?i)(api_token(?:=|%3D))[^&\s""'#]*|dot-[0-9a-fA-F]{16,}", RegexOptions.CultureInvariant)]
    private static partial Regex SecretPattern();

    public static bool MayContainSecret(string text)
        => text.Contains("api_token", StringComparison.OrdinalIgnoreCase) || text.Contains("dot-", StringComparison.OrdinalIgnoreCase);

    public static string Redact(string text)
        => MayContainSecret(text)
            ? SecretPattern().Replace(text, m => m.Groups[1].Success ? m.Groups[1].Value + Mask : "dot-" + Mask)
            : text;
}

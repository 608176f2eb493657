using System.Globalization;

namespace Dot.Api.Cli;

/// <summary>"30d", "12h", "15m", "90s", "1y" (365 days): a whole number and a unit.</summary>
public static class CliDuration
{
    /// <summary>Longer than any rule allows, so a huge number stays just too long rather than overflowing.</summary>
    private static readonly TimeSpan Ceiling = TimeSpan.FromDays(100 * 365);

    public const string Examples = "30d, 12h, 15m, 90s or 1y";

    /// <summary>The duration, or null when the text is none (or zero, unless <paramref name="allowZero"/>).</summary>
    public static TimeSpan? Parse(string text, bool allowZero = false)
    {
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || (n == 0 && !allowZero))
        {
            return null;
        }

        long seconds = char.ToLowerInvariant(text[^1]) switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'y' => 365 * 86400,
            _ => 0,
        };
        if (seconds == 0)
        {
            return null;
        }

        return n > Ceiling.TotalSeconds / seconds ? Ceiling : TimeSpan.FromSeconds(n * seconds);
    }
}

namespace Dot.Api.Tokens;

/// <summary><c>Dot:Tokens</c> settings.</summary>
public sealed class TokenOptions
{
    public const string Section = "Dot:Tokens";

    /// <summary>When set, no token may live longer, and "never expires" is refused (the default becomes this maximum).</summary>
    public int? MaxLifetimeDays { get; set; }

    /// <summary>How often gathered last-used data is written (1–60 seconds).</summary>
    public int UsageFlushSeconds { get; set; } = 60;
}

using Microsoft.Extensions.Options;

namespace Dot.Api.Tokens;

/// <summary><c>Dot:Tokens</c> settings, checked at start.</summary>
public sealed class TokenOptions
{
    public const string Section = "Dot:Tokens";

    public const int MinUsageFlushSeconds = 1;
    public const int MaxUsageFlushSeconds = 60;

    /// <summary>When set, no token may live longer, and "never expires" is refused (the default becomes this maximum).</summary>
    public int? MaxLifetimeDays { get; set; }

    /// <summary>How often gathered last-used data is written (1–60 seconds).</summary>
    public int UsageFlushSeconds { get; set; } = 60;

    public TimeSpan UsageFlush => TimeSpan.FromSeconds(UsageFlushSeconds);

    public const int MinCacheSize = 2;
    public const double MaxCacheSeconds = 3600;

    /// <summary>Most verified tokens kept at once (bounded: the oldest generation is dropped past it).</summary>
    public int CacheSize { get; set; } = 100_000;

    /// <summary>
    /// How long a verified token is trusted without asking the database again. Changes made on this
    /// instance evict at once, and on PostgreSQL changes made elsewhere are notified; this bounds how late
    /// another instance (or the CLI) is seen when there is no notification (SQLite, or the listener is down).
    /// </summary>
    public double CacheSeconds { get; set; } = 5;

    /// <summary>Where the cache's settings were read before they came here (they were the only ones of another section).</summary>
    internal static readonly string[] MovedKeys = ["Dot:Auth:CacheSize", "Dot:Auth:CacheSeconds"];

    internal static IEnumerable<string> Check(TokenOptions o)
    {
        if (o.MaxLifetimeDays is < 1 or > TokenService.MaxDays)
        {
            yield return $"{Section}:MaxLifetimeDays must be between 1 and {TokenService.MaxDays} (days) when set; it is {o.MaxLifetimeDays}.";
        }

        if (o.UsageFlushSeconds is < MinUsageFlushSeconds or > MaxUsageFlushSeconds)
        {
            yield return $"{Section}:UsageFlushSeconds must be between {MinUsageFlushSeconds} and {MaxUsageFlushSeconds} (seconds); it is {o.UsageFlushSeconds}.";
        }

        // The cache holds two generations of at least one token, and trusts a token from 0 seconds (every request asks
        // the database) to an hour (how late another instance's revocation may be seen without a notification).
        if (o.CacheSize < MinCacheSize)
        {
            yield return $"{Section}:CacheSize must be at least {MinCacheSize} (tokens); it is {o.CacheSize}.";
        }

        if (o.CacheSeconds is not (>= 0 and <= MaxCacheSeconds))
        {
            yield return $"{Section}:CacheSeconds must be between 0 and {MaxCacheSeconds} (seconds); it is {o.CacheSeconds}.";
        }
    }
}

/// <summary>
/// Refuses to start with a <c>Dot:Tokens</c> setting that cannot work, naming it, or with a cache setting still under
/// its old key (<c>Dot:Auth:CacheSeconds</c> would otherwise be ignored without a word).
/// </summary>
internal sealed class TokenOptionsValidator(IConfiguration configuration) : IValidateOptions<TokenOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenOptions options)
    {
        var failures = TokenOptions.Check(options).ToList();
        foreach (var moved in TokenOptions.MovedKeys)
        {
            if (configuration[moved] is not null)
            {
                failures.Add($"{moved} is no longer read: the setting is {TokenOptions.Section}:{moved[(moved.LastIndexOf(':') + 1)..]}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

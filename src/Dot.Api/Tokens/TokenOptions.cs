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
    }
}

/// <summary>Refuses to start with a <c>Dot:Tokens</c> setting that cannot work, naming it.</summary>
internal sealed class TokenOptionsValidator : IValidateOptions<TokenOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenOptions options)
    {
        var failures = TokenOptions.Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

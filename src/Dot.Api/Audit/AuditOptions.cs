using Microsoft.Extensions.Options;

namespace Dot.Api.Audit;

/// <summary><c>Dot:Audit</c> settings, checked at start.</summary>
public sealed class AuditOptions
{
    public const string Section = "Dot:Audit";

    public const int MinFlushSeconds = 1;
    public const int MaxFlushSeconds = 60;

    /// <summary>How often counted authentication failures are written (1–60 seconds).</summary>
    public int FlushSeconds { get; set; } = 10;

    public TimeSpan Flush => TimeSpan.FromSeconds(FlushSeconds);

    internal static IEnumerable<string> Check(AuditOptions o)
    {
        if (o.FlushSeconds is < MinFlushSeconds or > MaxFlushSeconds)
        {
            yield return $"{Section}:FlushSeconds must be between {MinFlushSeconds} and {MaxFlushSeconds} (seconds); it is {o.FlushSeconds}.";
        }
    }
}

/// <summary>Refuses to start with a <c>Dot:Audit</c> setting that cannot work, naming it.</summary>
internal sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options)
    {
        var failures = AuditOptions.Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

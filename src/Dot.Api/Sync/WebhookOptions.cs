using Microsoft.Extensions.Options;

namespace Dot.Api.Sync;

/// <summary><c>Dot:Webhooks</c> settings of verified webhooks, checked at start.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Dot:Webhooks";

    /// <summary>How far ahead of this server's clock a delivery's <c>timestamp</c> may be (clock skew), whatever the settings.</summary>
    public static readonly TimeSpan MaxAhead = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How old a verified dbt Cloud delivery's body <c>timestamp</c> may be (API.md §7). At most the 7-day dedupe
    /// retention (<see cref="WebhookDeliveries.Retention"/>): a delivery is refused as stale before its <c>eventId</c>
    /// can be forgotten, so a captured one cannot be replayed.
    /// </summary>
    public int ReplayWindowHours { get; set; } = 24;

    public TimeSpan ReplayWindow => TimeSpan.FromHours(ReplayWindowHours);

    internal static IEnumerable<string> Check(WebhookOptions o)
    {
        var max = (int)WebhookDeliveries.Retention.TotalHours;
        if (o.ReplayWindowHours < 1 || o.ReplayWindowHours > max)
        {
            yield return $"{Section}:ReplayWindowHours must be between 1 and {max} (the 7-day retention of delivered event ids).";
        }
    }
}

/// <summary>Refuses to start with a <c>Dot:Webhooks</c> setting that cannot work, naming it.</summary>
internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = WebhookOptions.Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

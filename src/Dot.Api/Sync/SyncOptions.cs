using Microsoft.Extensions.Options;

namespace Dot.Api.Sync;

/// <summary><c>Dot:Sync</c> settings, checked at start.</summary>
public sealed class SyncOptions
{
    public const string Section = "Dot:Sync";

    /// <summary>Whether this instance carries out runs. Off, it still queues them for an instance that does.</summary>
    public bool WorkerEnabled { get; set; } = true;

    /// <summary>How often the worker looks for queued runs without being woken (other instances' triggers).</summary>
    public int PollSeconds { get; set; } = 15;

    /// <summary>A running run whose heartbeat is older than this is taken for abandoned by a dead instance and re-queued.</summary>
    public int LeaseSeconds { get; set; } = 120;

    /// <summary>Runs this instance carries out at once.</summary>
    public int MaxConcurrentRuns { get; set; } = 2;

    /// <summary>A connector that has not finished by then is cancelled and its run fails.</summary>
    public int RunTimeoutMinutes { get; set; } = 60;

    /// <summary>
    /// Names this instance on the runs it claims, closes and heart-beats. At start, runs still marked running under
    /// this name are re-queued at once (this instance crashed while running them). The default is unique to the
    /// process (machine, process id and a random part), because several instances share the run table and two with
    /// one name would take each other's runs for their own: a crashed instance's runs then wait for their lease to
    /// lapse. Give each instance a stable name of its own to have them re-queued as soon as it starts again.
    /// </summary>
    public string InstanceName { get; set; } = DefaultInstanceName();

    internal static string DefaultInstanceName()
        => $"{Environment.MachineName}-{Environment.ProcessId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";

    internal static IEnumerable<string> Check(SyncOptions o)
    {
        if (o.PollSeconds is < 1 or > 3600)
        {
            yield return "Dot:Sync:PollSeconds must be between 1 and 3600.";
        }

        if (o.LeaseSeconds < 4 * o.PollSeconds)
        {
            yield return "Dot:Sync:LeaseSeconds must be at least 4 times Dot:Sync:PollSeconds (heartbeats are sent on the poll).";
        }

        if (o.MaxConcurrentRuns is < 1 or > 64)
        {
            yield return "Dot:Sync:MaxConcurrentRuns must be between 1 and 64.";
        }

        if (o.RunTimeoutMinutes is < 1 or > 10080)
        {
            yield return "Dot:Sync:RunTimeoutMinutes must be between 1 and 10080.";
        }

        if (string.IsNullOrWhiteSpace(o.InstanceName) || o.InstanceName.Length > SyncRun.MaxInstanceLength)
        {
            yield return $"Dot:Sync:InstanceName must be 1 to {SyncRun.MaxInstanceLength} characters.";
        }
    }
}

/// <summary>Refuses to start with <c>Dot:Sync</c> settings that cannot work, naming each one.</summary>
internal sealed class SyncOptionsValidator : IValidateOptions<SyncOptions>
{
    public ValidateOptionsResult Validate(string? name, SyncOptions options)
    {
        var failures = SyncOptions.Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

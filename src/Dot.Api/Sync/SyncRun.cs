namespace Dot.Api.Sync;

/// <summary>One sync of one connection: queued by a trigger, claimed and carried out by a <see cref="SyncWorker"/>.</summary>
public sealed class SyncRun
{
    public const int MaxErrorLength = 2000;
    public const int MaxInstanceLength = 200;

    public Guid Id { get; set; }

    /// <summary>The connection's key, kept as plain values: runs stay readable as history after the connection is deleted.</summary>
    public required string ConnectionType { get; set; }

    public required string ConnectionId { get; set; }

    public SyncStatus Status { get; set; }

    public DateTime RequestedAt { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    /// <summary>Why the run failed: names the cause, never a secret.</summary>
    public string? Error { get; set; }

    /// <summary>The user whose credential triggered the run.</summary>
    public Guid? RequestedBy { get; set; }

    public int? SchemasCount { get; set; }

    public int? TablesCount { get; set; }

    public int? ColumnsCount { get; set; }

    /// <summary>The worker instance (<c>Dot:Sync:InstanceName</c>) carrying the run out while it is running.</summary>
    public string? ClaimedBy { get; set; }

    /// <summary>Renewed by that instance while the run is running; a stale one means the instance died and the run is re-queued.</summary>
    public DateTime? HeartbeatAt { get; set; }
}

/// <summary>Stored and sent as the lower-case name.</summary>
public enum SyncStatus
{
    Queued = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
}

public static class SyncStatuses
{
    public static string ToName(this SyncStatus status) => status switch
    {
        SyncStatus.Queued => "queued",
        SyncStatus.Running => "running",
        SyncStatus.Succeeded => "succeeded",
        _ => "failed",
    };

    public static SyncStatus Parse(string value) => value switch
    {
        "queued" => SyncStatus.Queued,
        "running" => SyncStatus.Running,
        "succeeded" => SyncStatus.Succeeded,
        _ => SyncStatus.Failed,
    };
}

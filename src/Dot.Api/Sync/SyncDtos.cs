namespace Dot.Api.Sync;

/// <summary>The answer to a trigger: the run that was queued, or the queued or running one it joined.</summary>
public sealed record SyncTriggeredDto(
    Guid SyncId,
    string Status,
    string ConnectionType,
    string ConnectionId,
    DateTime RequestedAt);

public sealed record SyncRunDto(
    Guid SyncId,
    string Status,
    string ConnectionType,
    string ConnectionId,
    DateTime RequestedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    string? Error,
    int? SchemasCount,
    int? TablesCount,
    int? ColumnsCount);

internal static class SyncMapping
{
    public static SyncTriggeredDto ToTriggeredDto(this SyncRun r)
        => new(r.Id, r.Status.ToName(), r.ConnectionType, r.ConnectionId, r.RequestedAt);

    public static SyncRunDto ToDto(this SyncRun r) => new(
        r.Id, r.Status.ToName(), r.ConnectionType, r.ConnectionId, r.RequestedAt, r.StartedAt, r.FinishedAt, r.Error,
        r.SchemasCount, r.TablesCount, r.ColumnsCount);
}

namespace Dot.Api.Sync;

/// <summary>
/// One verified webhook delivery (an event of dbt Cloud, say) and the answer it got, keyed by the connection and the
/// sender's <see cref="EventId"/>: a redelivery of the same event is answered from this row, without a second run.
/// Kept for <see cref="WebhookDeliveries.Retention"/>, then pruned.
/// </summary>
public sealed class WebhookDelivery
{
    public const int MaxEventIdLength = 128;
    public const int MaxReasonLength = 64;

    public required string ConnectionType { get; set; }

    public required string ConnectionId { get; set; }

    /// <summary>The sender's id of the event (dbt Cloud's <c>eventId</c>, such as <c>wev_2L6ZDoilyiWzKkSA59Gmc2d7FDD</c>).</summary>
    public required string EventId { get; set; }

    public DateTime ReceivedAt { get; set; }

    /// <summary>One of <see cref="WebhookOutcomes"/>: what the first delivery was answered.</summary>
    public required string Outcome { get; set; }

    /// <summary>The run the first delivery queued or joined; null when it was ignored.</summary>
    public Guid? SyncId { get; set; }

    /// <summary>The run's status as the first answer showed it.</summary>
    public string? RunStatus { get; set; }

    /// <summary>The run's request time as the first answer showed it.</summary>
    public DateTime? RequestedAt { get; set; }

    /// <summary>Why the event was ignored (<see cref="WebhookEvent"/>'s reasons).</summary>
    public string? Reason { get; set; }
}

public static class WebhookOutcomes
{
    /// <summary>Held only inside the transaction that decides the answer; never seen by another reader.</summary>
    public const string Pending = "pending";

    public const string Queued = "queued";
    public const string Joined = "joined";
    public const string Ignored = "ignored";
}

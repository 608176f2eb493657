using System.Text.Json;

namespace Dot.Api.Sync;

/// <summary>
/// What a verified trigger's body says, read the way dbt Cloud writes its webhooks
/// (https://docs.getdbt.com/docs/deploy/webhooks): a JSON object with <c>eventId</c>, <c>eventType</c> and
/// <c>data.runStatusCode</c>. A body that is not such an object (none, text, a form, JSON without <c>eventType</c>) reads
/// as null: a plain trigger, as before webhooks were verified.
/// </summary>
public sealed record WebhookEvent(string EventType, string? EventId, int? RunStatusCode)
{
    /// <summary>The only event that syncs: a job run finished.</summary>
    public const string RunCompleted = "job.run.completed";

    /// <summary>dbt Cloud's run status code of a run that succeeded (20 is an error, 30 cancelled).</summary>
    public const int RunSucceeded = 10;

    /// <summary>The reason given for an event other than <see cref="RunCompleted"/>.</summary>
    public const string EventNotHandled = "event_type_not_handled";

    /// <summary>The reason for a <see cref="RunCompleted"/> whose <c>data.runStatusCode</c> is not <see cref="RunSucceeded"/>.</summary>
    public const string RunNotSucceeded = "run_not_succeeded";

    /// <summary>Why this event queues nothing; null when it queues (or joins) a sync.</summary>
    public string? IgnoredBecause => EventType != RunCompleted ? EventNotHandled
        : RunStatusCode != RunSucceeded ? RunNotSucceeded
        : null;

    /// <summary>The event in <paramref name="body"/>, or null when the body is not a JSON object with a string <c>eventType</c>.</summary>
    public static WebhookEvent? Read(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("eventType", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            var eventId = root.TryGetProperty("eventId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
            int? code = root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("runStatusCode", out var status) && status.ValueKind == JsonValueKind.Number
                && status.TryGetInt32(out var number)
                    ? number
                    : null;
            return new WebhookEvent(type.GetString()!, string.IsNullOrEmpty(eventId) ? null : eventId, code);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

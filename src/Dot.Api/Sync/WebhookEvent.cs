using System.Text.Json;

namespace Dot.Api.Sync;

/// <summary>
/// What a verified trigger's body says, read the way dbt Cloud writes its webhooks
/// (https://docs.getdbt.com/docs/deploy/webhooks): a JSON object with <c>eventId</c>, <c>eventType</c> and
/// <c>data.runStatusCode</c>. A body that is not such an object (none, text, a form, JSON without <c>eventType</c>) reads
/// as null: a plain trigger, as before webhooks were verified.
/// </summary>
public sealed partial record WebhookEvent(string EventType, string? EventId, int? RunStatusCode, DateTimeOffset? Timestamp = null)
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
            var timestamp = root.TryGetProperty("timestamp", out var sent) && sent.ValueKind == JsonValueKind.String
                ? ReadTimestamp(sent.GetString()!)
                : null;
            return new WebhookEvent(type.GetString()!, string.IsNullOrEmpty(eventId) ? null : eventId, code, timestamp);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// An ISO 8601 date and time with its offset (<c>Z</c> or <c>±hh:mm</c>), as dbt Cloud writes it
    /// (<c>2023-01-31T19:29:35.789265936Z</c>: nanoseconds, past .NET's 100 ns, are dropped); null for anything else,
    /// a time without an offset included (whose instant nobody knows).
    /// </summary>
    internal static DateTimeOffset? ReadTimestamp(string text)
    {
        var match = Iso8601().Match(text);
        if (!match.Success)
        {
            return null;
        }

        var fraction = match.Groups[2].Success ? "." + match.Groups[2].Value.PadRight(7, '0')[..7] : string.Empty;
        return DateTimeOffset.TryParseExact(match.Groups[1].Value + fraction + (match.Groups[3].Value == "Z" ? "+00:00" : match.Groups[3].Value),
            fraction.Length > 0 ? "yyyy-MM-dd'T'HH:mm:ss.fffffffzzz" : "yyyy-MM-dd'T'HH:mm:sszzz",
            System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var at)
            ? at
            : null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\A([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})\z",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial System.Text.RegularExpressions.Regex Iso8601();
}

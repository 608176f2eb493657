using Dot.Api.Audit;
using Dot.Api.Connections;
using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dot.Api.Sync;

/// <summary>
/// Verified webhooks of a sync trigger (API.md §4, "Verified webhooks"): whether a connection wants a signature,
/// its secret, the refusal of a bad signature, and the once-only handling of an event.
/// </summary>
public sealed partial class WebhookDeliveries(DotDbContext db, ConnectionSecrets secrets, SyncService sync, TimeProvider time,
    AuditLog audit, IOptions<WebhookOptions> options, ILogger<WebhookDeliveries> logger)
{
    /// <summary>
    /// How long a delivery is remembered: a redelivery of the same event within it is answered as the first one was.
    /// dbt Cloud retries a failed delivery five times within minutes; a week covers that and a manual redelivery
    /// the next day. Older rows are deleted by <see cref="WebhookDeliveryPruner"/> every hour. A delivery is refused as
    /// stale before its row can be (<see cref="WhyStale"/>): that is what keeps a captured one from being replayed.
    /// </summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    /// <summary>How the connection's secret names spell <see cref="ConnectionValidation.WebhookSecretName"/> (a JSON array of strings).</summary>
    private const string SecretNameInJson = "\"" + ConnectionValidation.WebhookSecretName + "\"";

    private const int MaxClaimAttempts = 3;

    /// <summary>
    /// Null when there is no such connection; otherwise whether it holds a <c>webhook_secret</c>. One query, as the
    /// existence check it replaces, read from the secret names kept in the clear: nothing is decrypted.
    /// </summary>
    public Task<bool?> WantsSignatureAsync(string type, string id, CancellationToken cancellationToken)
        => db.Connections.AsNoTracking()
            .Where(c => c.Type == type && c.Id == id)
            .Select(c => (bool?)c.SecretNames.Contains(SecretNameInJson))
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>The connection's <c>webhook_secret</c>, decrypted; null when it has none (or no longer exists).</summary>
    public async Task<string?> ReadSecretAsync(string type, string id, CancellationToken cancellationToken)
        => await secrets.ReadAsync(type, id, cancellationToken) is { } values && values.TryGetValue(ConnectionValidation.WebhookSecretName, out var secret)
            ? secret
            : null;

    /// <summary>Audits a refused signature (the caller's token was good: the actor is its owner); never the header's value.</summary>
    public Task RefuseAsync(string type, string id, WebhookSignature.Verdict verdict, CancellationToken cancellationToken)
        => RefuseAsync(type, id, WebhookProblem.InvalidSignature, verdict switch
        {
            WebhookSignature.Verdict.Missing => "no Authorization header",
            WebhookSignature.Verdict.NotHex => "Authorization is not 64 hex digits",
            _ => "Authorization does not match the body",
        }, cancellationToken);

    /// <summary>Audits a signed delivery refused as stale (<see cref="WhyStale"/>).</summary>
    public Task RefuseStaleAsync(string type, string id, string why, CancellationToken cancellationToken)
        => RefuseAsync(type, id, WebhookProblem.StaleWebhook, "timestamp " + why, cancellationToken);

    private async Task RefuseAsync(string type, string id, string reason, string why, CancellationToken cancellationToken)
    {
        audit.Add(AuditEventTypes.WebhookRefused, null, $"{type}/{id}", $"{reason}: {why}");
        await db.SaveChangesAsync(cancellationToken);
        Log.Refused(logger, type, id, why);
    }

    /// <summary>
    /// Why a signed dbt Cloud event may not be handled for its body <c>timestamp</c> (API.md §7): missing or unreadable,
    /// older than <see cref="WebhookOptions.ReplayWindowHours"/>, or more than <see cref="WebhookOptions.MaxAhead"/> ahead;
    /// null when it is fresh. With or without an <c>eventId</c>: one without is not deduplicated, so only this bounds it.
    /// </summary>
    public string? WhyStale(WebhookEvent webhookEvent)
    {
        if (webhookEvent.Timestamp is not { } sent)
        {
            return "is missing or not an ISO 8601 time with an offset";
        }

        var now = time.GetUtcNow();
        return sent < now - options.Value.ReplayWindow ? $"is older than {options.Value.ReplayWindowHours} hours"
            : sent > now + WebhookOptions.MaxAhead ? $"is more than {WebhookOptions.MaxAhead.TotalMinutes} minutes ahead of this server's clock"
            : null;
    }

    /// <summary>
    /// Answers a verified event: <c>job.run.completed</c> with <c>runStatusCode</c> 10 queues (or joins) a sync, any
    /// other is ignored. An event with an id is handled once per connection: its id is claimed with
    /// <c>INSERT … ON CONFLICT DO NOTHING</c> in the transaction that decides and stores the answer, so a second
    /// delivery — later, or at the same moment on any instance — waits for that transaction and gets the stored answer.
    /// </summary>
    public async Task<WebhookAnswer> DeliverAsync(string type, string id, WebhookEvent webhookEvent, Guid? requestedBy,
        CancellationToken cancellationToken)
    {
        if (webhookEvent.EventId is not { } eventId)
        {
            return await AnswerAsync(type, id, webhookEvent, requestedBy, null, cancellationToken);
        }

        var answer = await db.TransactAsync(async (transaction, ct) =>
        {
            for (var attempt = 1; ; attempt++)
            {
                var receivedAt = StoredTime.Truncate(time.GetUtcNow().UtcDateTime); // raw SQL: no value converter on the way
                var pending = WebhookOutcomes.Pending;
                var claimed = await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO webhook_deliveries ("ConnectionType", "ConnectionId", "EventId", "ReceivedAt", "Outcome")
                    VALUES ({type}, {id}, {eventId}, {receivedAt}, {pending})
                    ON CONFLICT DO NOTHING
                    """, ct);
                if (claimed == 1)
                {
                    var decided = await AnswerAsync(type, id, webhookEvent, requestedBy, eventId, ct);
                    var (outcome, syncId, runStatus, requestedAt, reason) =
                        (decided.Outcome, decided.Run?.SyncId, decided.Run?.Status, decided.Run?.RequestedAt, decided.Reason);
                    await db.WebhookDeliveries
                        .Where(d => d.ConnectionType == type && d.ConnectionId == id && d.EventId == eventId)
                        .ExecuteUpdateAsync(s => s
                            .SetProperty(d => d.Outcome, outcome)
                            .SetProperty(d => d.SyncId, syncId)
                            .SetProperty(d => d.RunStatus, runStatus)
                            .SetProperty(d => d.RequestedAt, requestedAt)
                            .SetProperty(d => d.Reason, reason), ct);
                    await transaction.CommitAsync(ct);
                    return decided;
                }

                // Claimed by an earlier delivery, committed (a concurrent claim waits for its transaction to end).
                if (await db.WebhookDeliveries.AsNoTracking()
                    .FirstOrDefaultAsync(d => d.ConnectionType == type && d.ConnectionId == id && d.EventId == eventId, ct) is { } first)
                {
                    await transaction.CommitAsync(ct);
                    return WebhookAnswer.From(first);
                }

                if (attempt == MaxClaimAttempts) // pruned between the two statements, again and again: not expected
                {
                    throw new InvalidOperationException($"Could not claim webhook event {eventId} of {type}/{id} after {MaxClaimAttempts} attempts.");
                }
            }
        }, cancellationToken);

        if (answer.Outcome == WebhookOutcomes.Queued && !answer.Replayed)
        {
            sync.WakeWorker();
        }

        if (answer.Replayed)
        {
            Log.Replayed(logger, eventId, type, id);
        }

        return answer;
    }

    private async Task<WebhookAnswer> AnswerAsync(string type, string id, WebhookEvent webhookEvent, Guid? requestedBy, string? eventId,
        CancellationToken cancellationToken)
    {
        if (webhookEvent.IgnoredBecause is { } reason)
        {
            Log.Ignored(logger, type, id, reason);
            return new WebhookAnswer(WebhookOutcomes.Ignored, null, reason, Replayed: false);
        }

        var (run, joined) = await sync.RecordTriggerAsync(type, id, requestedBy, eventId, cancellationToken);
        if (eventId is null && !joined)
        {
            sync.WakeWorker(); // no transaction of ours: the run is committed
        }

        return new WebhookAnswer(joined ? WebhookOutcomes.Joined : WebhookOutcomes.Queued, run.ToTriggeredDto(), null, Replayed: false);
    }

    private static partial class Log
    {
        [LoggerMessage(40, LogLevel.Warning, "Webhook trigger of {ConnectionType}/{ConnectionId} refused: {Why}")]
        public static partial void Refused(ILogger logger, string connectionType, string connectionId, string why);

        [LoggerMessage(41, LogLevel.Information, "Webhook event for {ConnectionType}/{ConnectionId} ignored: {Reason}")]
        public static partial void Ignored(ILogger logger, string connectionType, string connectionId, string reason);

        [LoggerMessage(42, LogLevel.Information, "Webhook event {EventId} of {ConnectionType}/{ConnectionId} was delivered before; answered as then")]
        public static partial void Replayed(ILogger logger, string eventId, string connectionType, string connectionId);
    }
}

/// <summary>What a verified event was answered: the run it queued or joined, or why it was ignored.</summary>
public sealed record WebhookAnswer(string Outcome, SyncTriggeredDto? Run, string? Reason, bool Replayed)
{
    public static WebhookAnswer From(WebhookDelivery first) => new(
        first.Outcome,
        first.SyncId is { } syncId
            ? new SyncTriggeredDto(syncId, first.RunStatus!, first.ConnectionType, first.ConnectionId, first.RequestedAt!.Value)
            : null,
        first.Reason,
        Replayed: true);
}

/// <summary>The answer to an event that queues nothing: <c>{"status": "ignored", "reason": …}</c>.</summary>
public sealed record WebhookIgnoredDto(string Status, string Reason);

/// <summary>
/// Deletes deliveries older than <see cref="WebhookDeliveries.Retention"/> and the <see cref="WebhookOptions.MaxAhead"/>
/// a timestamp may be ahead: a delivery received at R with a timestamp up to R + 5 min is fresh until R + 5 min + the
/// replay window (at most the retention), and its row outlives that. Run hourly by a <see cref="PeriodicFlusher{T}"/>.
/// </summary>
public sealed class WebhookDeliveryPruner(IServiceScopeFactory scopes, TimeProvider time) : IBatchWriter
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>How long a delivery's row is kept.</summary>
    public static readonly TimeSpan KeptFor = WebhookDeliveries.Retention + WebhookOptions.MaxAhead;

    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        var cutoff = time.GetUtcNow().UtcDateTime - KeptFor;
        return await db.WebhookDeliveries.Where(d => d.ReceivedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}

/// <summary>A deleted connection's deliveries go with it: a new connection of the same id starts with none.</summary>
internal sealed class ForgetDeliveriesOfDeletedConnection(DotDbContext db) : IConnectionDeletionHandler
{
    public Task OnDeletedAsync(string type, string id, CancellationToken cancellationToken)
        => db.WebhookDeliveries.Where(d => d.ConnectionType == type && d.ConnectionId == id).ExecuteDeleteAsync(cancellationToken);
}

using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Connections;
using Dot.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dot.Api.Sync;

internal static partial class SyncApi
{
    public static RouteGroupBuilder MapSync(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/sync")
            .WithTags("Sync")
            .RequireRole(Role.Admin);

        // Admins only; the token may come in the URL (?user_id=…&api_token=…) for webhooks such as dbt Cloud's.
        group.MapPost("/{connection_type}/{connection_id}", TriggerAsync)
            .RequireConnectionSyncScope("connection_type", "connection_id")
            .AllowApiTokenInQuery()
            .WithName("TriggerSync")
            .WithSummary("Queue a sync of a connection")
            .WithDescription("202 with the run. While a sync of the same connection is queued or running, a trigger joins it "
                + "(same sync_id). Any request body up to 1 MiB (a dbt Cloud webhook's JSON, say) is accepted; larger is 413. "
                + "Accepts the token as ?user_id=<email or id>&api_token=<token> as well as in the API-KEY header. "
                + "Verified webhooks: when the connection has the secret webhook_secret, the Authorization header must be the "
                + "hex HMAC-SHA256 of the raw body keyed with it (dbt Cloud's signature), else 401 invalid_webhook_signature; "
                + "then a dbt Cloud event (a JSON object with eventType) whose timestamp is missing, older than Dot:Webhooks:ReplayWindowHours "
                + "(default 24) or more than 5 minutes ahead is 401 stale_webhook; "
                + "a dbt Cloud event queues a sync only for job.run.completed with data.runStatusCode 10, any other answers "
                + "202 {status: ignored, reason}, and a repeated eventId gets the first delivery's answer without a second run.")
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        group.MapGet("/runs/{sync_id:guid}", GetRunAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireConnectionSyncScope(SyncRunScope.OfRunAsync, SyncRunScope.Pattern, SyncRunScope.Refusal)
            .WithName("GetSyncRun")
            .WithSummary("A sync run's status")
            .WithDescription("queued, running, succeeded or failed, with timestamps, the error text of a failed run, and what the connector counted.");

        return group;
    }

    private static async Task<Results<Accepted<SyncTriggeredDto>, Accepted<WebhookIgnoredDto>, InvalidProblem, NotFoundProblem,
        TooLargeProblem, WebhookProblem>> TriggerAsync(
        [FromRoute(Name = "connection_type")] string connectionType,
        [FromRoute(Name = "connection_id")] string connectionId,
        HttpRequest request,
        ClaimsPrincipal caller,
        WebhookDeliveries webhooks,
        SyncService sync,
        ILoggerFactory loggers,
        CancellationToken ct)
    {
        if (!ConnectionTypes.IsKnown(connectionType))
        {
            return Problems.Validation("connection_type", $"connection_type must be one of {ConnectionTypes.Listed}.");
        }

        // One lookup, as ever: does the connection exist, and does it hold a webhook_secret (from its secret names)?
        var wantsSignature = ConnectionTypes.IsSlug(connectionId)
            ? await webhooks.WantsSignatureAsync(connectionType, connectionId, ct)
            : null;
        if (wantsSignature is true)
        {
            return await VerifiedTriggerAsync(connectionType, connectionId, request, caller, webhooks, sync, loggers, ct);
        }

        // No secret: the body is never bound: read to its end, counted, dropped.
        if (!await RequestBodies.DrainAsync(request, RequestBodies.OneMebibyte, ct))
        {
            return Problems.TooLarge("The request body is larger than 1 MiB; this endpoint ignores bodies, so send a smaller one or none.");
        }

        if (wantsSignature is null)
        {
            return Problems.NotFound($"No {connectionType} connection with that id.");
        }

        return await PlainTriggerAsync(connectionType, connectionId, caller, sync, loggers, ct);
    }

    /// <summary>
    /// A connection with a <c>webhook_secret</c>: the raw body (read once, up to 1 MiB) must be signed, before any sync
    /// work; then a dbt Cloud event is handled once per <c>eventId</c>, and a body that is not one triggers as always.
    /// </summary>
    private static async Task<Results<Accepted<SyncTriggeredDto>, Accepted<WebhookIgnoredDto>, InvalidProblem, NotFoundProblem,
        TooLargeProblem, WebhookProblem>> VerifiedTriggerAsync(string connectionType, string connectionId, HttpRequest request,
        ClaimsPrincipal caller, WebhookDeliveries webhooks, SyncService sync, ILoggerFactory loggers, CancellationToken ct)
    {
        if (await WebhookBody.ReadAsync(request, RequestBodies.OneMebibyte, ct) is not { } body)
        {
            return Problems.TooLarge("The request body is larger than 1 MiB.");
        }

        if (await webhooks.ReadSecretAsync(connectionType, connectionId, ct) is not { } secret)
        {
            return Problems.NotFound($"No {connectionType} connection with that id."); // deleted since the lookup
        }

        var signature = request.Headers.Authorization;
        var verdict = WebhookSignature.Check(secret, body, signature.Count <= 1 ? signature.ToString() : "several");
        if (verdict != WebhookSignature.Verdict.Valid)
        {
            await webhooks.RefuseAsync(connectionType, connectionId, verdict, ct);
            return WebhookProblem.Create();
        }

        if (WebhookEvent.Read(body) is not { } webhookEvent)
        {
            return await PlainTriggerAsync(connectionType, connectionId, caller, sync, loggers, ct);
        }

        if (webhooks.WhyStale(webhookEvent) is { } stale)
        {
            await webhooks.RefuseStaleAsync(connectionType, connectionId, stale, ct);
            return WebhookProblem.Stale(stale);
        }

        if (webhookEvent.EventId is { } eventId && !IsEventId(eventId))
        {
            return Problems.Validation("eventId",
                $"eventId must be 1 to {WebhookDelivery.MaxEventIdLength} letters, digits, '_', '-', '.' or ':'.");
        }

        var answer = await webhooks.DeliverAsync(connectionType, connectionId, webhookEvent, caller.UserId(), ct);
        return answer.Run is { } run
            ? TypedResults.Accepted($"/api/sync/runs/{run.SyncId}", run)
            : TypedResults.Accepted((string?)null, new WebhookIgnoredDto(WebhookOutcomes.Ignored, answer.Reason!));
    }

    private static async Task<Accepted<SyncTriggeredDto>> PlainTriggerAsync(string connectionType, string connectionId,
        ClaimsPrincipal caller, SyncService sync, ILoggerFactory loggers, CancellationToken ct)
    {
        var (run, joined) = await sync.TriggerAsync(connectionType, connectionId, caller.UserId(), ct);
        var logger = loggers.CreateLogger(typeof(SyncApi).FullName!);
        if (joined)
        {
            Log.Joined(logger, run.Id, run.ConnectionType, run.ConnectionId);
        }
        else
        {
            Log.Queued(logger, run.Id, run.ConnectionType, run.ConnectionId, run.RequestedBy);
        }

        return TypedResults.Accepted($"/api/sync/runs/{run.Id}", run.ToTriggeredDto());
    }

    private static bool IsEventId(string id)
        => id.Length <= WebhookDelivery.MaxEventIdLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');

    private static async Task<Results<Ok<SyncRunDto>, NotFoundProblem>> GetRunAsync(
        [FromRoute(Name = "sync_id")] Guid syncId, SyncService sync, CancellationToken ct)
    {
        var run = await sync.FindAsync(syncId, ct);
        return run is null ? Problems.NotFound("No sync run with that id.") : TypedResults.Ok(run.ToDto());
    }

    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Information, "Sync {SyncId} of {ConnectionType}/{ConnectionId} queued by user {UserId}")]
        public static partial void Queued(ILogger logger, Guid syncId, string connectionType, string connectionId, Guid? userId);

        [LoggerMessage(31, LogLevel.Information, "Trigger joined sync {SyncId} of {ConnectionType}/{ConnectionId}")]
        public static partial void Joined(ILogger logger, Guid syncId, string connectionType, string connectionId);
    }
}

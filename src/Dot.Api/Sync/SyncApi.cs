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
            .RequireAuthorization(Policies.Admin);

        // Admins only; the token may come in the URL (?user_id=…&api_token=…) for webhooks such as dbt Cloud's.
        group.MapPost("/{connection_type}/{connection_id}", TriggerAsync)
            .RequireConnectionSyncScope("connection_type", "connection_id")
            .AllowApiTokenInQuery()
            .WithName("TriggerSync")
            .WithSummary("Queue a sync of a connection")
            .WithDescription("202 with the run. While a sync of the same connection is queued or running, a trigger joins it "
                + "(same sync_id). Any request body up to 1 MiB (a dbt Cloud webhook's JSON, say) is accepted and ignored; "
                + "larger is 413. Accepts the token as ?user_id=<email or id>&api_token=<token> as well as in the API-KEY header.")
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        group.MapGet("/runs/{sync_id:guid}", GetRunAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireConnectionSyncScope(SyncRunScope.OfRunAsync, SyncRunScope.Pattern)
            .WithName("GetSyncRun")
            .WithSummary("A sync run's status")
            .WithDescription("queued, running, succeeded or failed, with timestamps, the error text of a failed run, and what the connector counted.");

        return group;
    }

    private static async Task<Results<Accepted<SyncTriggeredDto>, InvalidProblem, NotFoundProblem, TooLargeProblem>> TriggerAsync(
        [FromRoute(Name = "connection_type")] string connectionType,
        [FromRoute(Name = "connection_id")] string connectionId,
        HttpRequest request,
        ClaimsPrincipal caller,
        ConnectionService connections,
        SyncService sync,
        ILoggerFactory loggers,
        CancellationToken ct)
    {
        if (!ConnectionTypes.IsKnown(connectionType))
        {
            return Problems.Validation("connection_type", $"connection_type must be one of {ConnectionTypes.Listed}.");
        }

        // The body is never bound: read to its end, counted, dropped.
        if (!await RequestBodies.DrainAsync(request, RequestBodies.OneMebibyte, ct))
        {
            return Problems.TooLarge("The request body is larger than 1 MiB; this endpoint ignores bodies, so send a smaller one or none.");
        }

        if (!ConnectionTypes.IsSlug(connectionId) || !await connections.ExistsAsync(connectionType, connectionId, ct))
        {
            return Problems.NotFound($"No {connectionType} connection with that id.");
        }

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

using System.Collections.Concurrent;
using System.Security.Cryptography;
using Dot.Api.Connections;
using Dot.Api.Connectors;
using Dot.Api.Logging;
using Microsoft.Extensions.Options;

namespace Dot.Api.Sync;

/// <summary>
/// Carries out queued runs: the loop (polling, signal, concurrency, shutdown) and the connector call; the run table's
/// changes are <see cref="SyncRunStore"/>'s. Woken by <see cref="SyncSignal"/> when this instance queues one, and every
/// <c>Dot:Sync:PollSeconds</c> for runs other instances queued. A run is claimed with one conditional
/// UPDATE (status queued → running), so two workers never take the same run. At start, runs this instance
/// left running (a crash) are re-queued; on the poll, so are runs whose instance stopped heart-beating.
/// A run interrupted by a shutdown goes back to the queue and is carried out after the next start.
/// </summary>
public sealed partial class SyncWorker(
    IServiceScopeFactory scopes,
    SyncSignal signal,
    TimeProvider time,
    IOptions<SyncOptions> options,
    ILogger<SyncWorker> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, Task> _active = new();
    private readonly SyncOptions _options = options.Value;

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.WorkerEnabled)
        {
            Log.Disabled(logger);
            return;
        }

        await Task.Yield();
        var poll = TimeSpan.FromSeconds(_options.PollSeconds);
        var maintenanceEvery = TimeSpan.FromSeconds(_options.LeaseSeconds / 4.0);
        var recovered = false;
        var lastMaintenance = DateTime.MinValue;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (!recovered)
                    {
                        await RequeueAbandonedAsync(startup: true, stoppingToken);
                        recovered = true;
                        lastMaintenance = Now;
                    }
                    else if (Now - lastMaintenance >= maintenanceEvery)
                    {
                        await HeartbeatAsync(stoppingToken);
                        await RequeueAbandonedAsync(startup: false, stoppingToken);
                        lastMaintenance = Now;
                    }

                    await ClaimAndStartAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // The database is locked or away: say so and try again on the next poll rather than stop the host.
                    Log.LoopFailed(logger, ex.GetType().Name, ex);
                }

                await signal.WaitAsync(poll, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Each run puts itself back in the queue when cancelled by the shutdown.
            await Task.WhenAll(_active.Values);
        }
    }

    private async Task ClaimAndStartAsync(CancellationToken stoppingToken)
    {
        while (_active.Count < _options.MaxConcurrentRuns && !stoppingToken.IsCancellationRequested)
        {
            var run = await TryClaimAsync(stoppingToken);
            if (run is null)
            {
                return;
            }

            var task = CarryOutAsync(run, stoppingToken);
            _active[run.Id] = task;
            _ = task.ContinueWith(_ =>
            {
                _active.TryRemove(run.Id, out Task? _);
                signal.Notify(); // a slot is free: look for the next queued run
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
    }

    /// <summary>The oldest queued run, claimed for this instance; null when none is left.</summary>
    private async Task<SyncRun?> TryClaimAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SyncRunStore>().TryClaimAsync(cancellationToken);
    }

    private async Task CarryOutAsync(SyncRun run, CancellationToken stoppingToken)
    {
        await Task.Yield();
        var key = $"{run.ConnectionType}/{run.ConnectionId}";
        Log.Started(logger, run.Id, key);
        SyncOutcome? outcome = null;
        string? error;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            (outcome, error) = await RunConnectorAsync(scope.ServiceProvider, run, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await RequeueAsync(run.Id);
            return;
        }
        catch (Exception ex)
        {
            // Not the connector's failure but ours (the database, say): the run still ends, with a cause.
            Log.RunCrashed(logger, run.Id, ex.GetType().Name, ex);
            error = $"the server could not carry out the sync ({ex.GetType().Name}).";
        }

        await FinishAsync(run, outcome, error);
    }

    private async Task<(SyncOutcome? Outcome, string? Error)> RunConnectorAsync(IServiceProvider services, SyncRun run,
        CancellationToken stoppingToken)
    {
        var type = run.ConnectionType;
        var connector = services.GetServices<ISyncConnector>().LastOrDefault(c => string.Equals(c.Type, type, StringComparison.Ordinal));
        if (connector is null)
        {
            return (null, $"no connector for {type} in this server");
        }

        var connection = await services.GetRequiredService<ConnectionService>().FindAsync(type, run.ConnectionId, stoppingToken);
        if (connection is null)
        {
            return (null, $"the connection {type}/{run.ConnectionId} no longer exists");
        }

        ConnectionSecretValues secrets;
        try
        {
            secrets = services.GetRequiredService<ConnectionSecrets>().Unprotect(connection.Type, connection.Id, connection.Secrets);
        }
        catch (CryptographicException)
        {
            return (null, $"the secrets of {connection.Key} cannot be decrypted: the Data Protection key that encrypted them is not in this server's key ring");
        }

        var dto = connection.ToDto();
        var job = new SyncJob(run.Id, type, connection.Id, connection.Name, dto.Settings, secrets);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(_options.RunTimeoutMinutes), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            return (await connector.RunAsync(job, linked.Token), null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            return (null, $"the {type} connector did not finish within {_options.RunTimeoutMinutes} minutes");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            return (null, DescribeFailure(type, ex, secrets));
        }
    }

    /// <summary>
    /// "postgres connector failed: SocketException: Connection refused": the exception's type and message
    /// (and its root cause's), or a <see cref="SyncFailedException"/>'s message alone, with every secret value of the
    /// connection and anything token-shaped removed.
    /// </summary>
    internal static string DescribeFailure(string type, Exception ex, ConnectionSecretValues secrets)
    {
        string text;
        if (ex is SyncFailedException)
        {
            text = ex.Message;
        }
        else
        {
            text = $"{type} connector failed: {ex.GetType().Name}: {ex.Message}";
            var root = ex.GetBaseException();
            if (!ReferenceEquals(root, ex))
            {
                text += $" (caused by {root.GetType().Name}: {root.Message})";
            }
        }

        text = SecretRedactor.Redact(secrets.Scrub(text));
        return text.Length <= SyncRun.MaxErrorLength ? text : text[..(SyncRun.MaxErrorLength - 1)] + "…";
    }

    private async Task FinishAsync(SyncRun run, SyncOutcome? outcome, string? error)
    {
        var now = Now;
        var status = error is null ? SyncStatus.Succeeded : SyncStatus.Failed;
        int written;
        try
        {
            written = await CloseRunAsync(run, outcome, error, now);
        }
        catch (Exception ex) when (error is null)
        {
            // The run's results could not be stored (the catalogue, say): nothing of them was (one transaction),
            // and the run ends failed with the cause rather than staying running.
            Log.StoreFailed(logger, run.Id, ex.GetType().Name, ex);
            status = SyncStatus.Failed;
            try
            {
                written = await CloseRunAsync(run, null, $"the sync's results could not be stored ({ex.GetType().Name}).", now);
            }
            catch (Exception again)
            {
                Log.FinishFailed(logger, run.Id, again.GetType().Name, again);
                return;
            }
        }
        catch (Exception ex)
        {
            // Left running: the lease (or the next start) re-queues it and it is carried out again.
            Log.FinishFailed(logger, run.Id, ex.GetType().Name, ex);
            return;
        }

        if (written == 0)
        {
            // The connection was deleted meanwhile (its runs were ended), or another instance re-queued the run.
            Log.OutcomeDiscarded(logger, run.Id);
        }
        else
        {
            Log.Finished(logger, run.Id, status.ToName());
        }
    }

    /// <summary>Closes the run, storing its catalogue on success (<see cref="SyncRunStore.CloseAsync"/>); 0 when closed elsewhere.</summary>
    private async Task<int> CloseRunAsync(SyncRun run, SyncOutcome? outcome, string? error, DateTime now)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SyncRunStore>().CloseAsync(run, outcome, error, now);
    }

    private async Task RequeueAsync(Guid id)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<SyncRunStore>().RequeueAsync(id);
            Log.Requeued(logger, id);
        }
        catch (Exception ex)
        {
            // Left running: the next start (same instance name) or the lease re-queues it.
            Log.RequeueFailed(logger, id, ex.GetType().Name, ex);
        }
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        var ids = _active.Keys.ToList();
        if (ids.Count == 0)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SyncRunStore>().HeartbeatAsync(ids, cancellationToken);
    }

    /// <summary>Re-queues abandoned runs (<see cref="SyncRunStore.RequeueAbandonedAsync"/>), other than this instance's active ones.</summary>
    private async Task RequeueAbandonedAsync(bool startup, CancellationToken cancellationToken)
    {
        var active = _active.Keys.ToList();
        await using var scope = scopes.CreateAsyncScope();
        var requeued = await scope.ServiceProvider.GetRequiredService<SyncRunStore>().RequeueAbandonedAsync(startup, active, cancellationToken);
        if (requeued > 0)
        {
            Log.Recovered(logger, requeued);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(40, LogLevel.Information, "Sync worker disabled on this instance (Dot:Sync:WorkerEnabled=false); runs stay queued")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(41, LogLevel.Information, "Sync {SyncId} of {Connection} started")]
        public static partial void Started(ILogger logger, Guid syncId, string connection);

        [LoggerMessage(42, LogLevel.Information, "Sync {SyncId} {Status}")]
        public static partial void Finished(ILogger logger, Guid syncId, string status);

        [LoggerMessage(43, LogLevel.Warning, "Sync {SyncId} ended after its run was closed elsewhere (connection deleted?); outcome discarded")]
        public static partial void OutcomeDiscarded(ILogger logger, Guid syncId);

        [LoggerMessage(44, LogLevel.Information, "Sync {SyncId} interrupted by shutdown; re-queued")]
        public static partial void Requeued(ILogger logger, Guid syncId);

        [LoggerMessage(45, LogLevel.Warning, "Re-queued {Count} abandoned sync run(s)")]
        public static partial void Recovered(ILogger logger, int count);

        [LoggerMessage(46, LogLevel.Error, "Sync worker loop failed ({ExceptionType}); retrying on the next poll")]
        public static partial void LoopFailed(ILogger logger, string exceptionType, Exception exception);

        [LoggerMessage(47, LogLevel.Error, "Sync {SyncId} could not be carried out ({ExceptionType})")]
        public static partial void RunCrashed(ILogger logger, Guid syncId, string exceptionType, Exception exception);

        [LoggerMessage(49, LogLevel.Error, "Sync {SyncId} ended but its outcome could not be written ({ExceptionType})")]
        public static partial void FinishFailed(ILogger logger, Guid syncId, string exceptionType, Exception exception);

        [LoggerMessage(50, LogLevel.Error, "Sync {SyncId} succeeded but its results could not be stored ({ExceptionType}); the run fails")]
        public static partial void StoreFailed(ILogger logger, Guid syncId, string exceptionType, Exception exception);

        [LoggerMessage(48, LogLevel.Warning, "Sync {SyncId} could not be re-queued at shutdown ({ExceptionType})")]
        public static partial void RequeueFailed(ILogger logger, Guid syncId, string exceptionType, Exception exception);
    }
}

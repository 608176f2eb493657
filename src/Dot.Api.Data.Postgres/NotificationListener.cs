using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Dot.Api.Data.Postgres;

/// <summary>
/// One per instance, on PostgreSQL: a dedicated connection (not from the pool; application name
/// <see cref="ApplicationName"/>, keepalive on) that <c>LISTEN</c>s on every handler's channel and waits. When the
/// connection is lost it is opened again after a short backoff (at most a second); every time it is listening
/// again the handlers are told, because what was sent meanwhile is gone (the token cache then starts empty). While
/// it is down, what bounds how late a change is seen is the features' own expiry (the cache's
/// <c>Dot:Tokens:CacheSeconds</c>). Every payload is opened by <see cref="NoticeSeal"/> before a handler sees it: one
/// that another session of the database sent, or sent again, is dropped and counted
/// (<see cref="NotificationListenerStatus.Rejected"/>). Nothing here is logged but the connection's state and, at most
/// once a minute, how many were dropped: never a payload.
/// </summary>
public sealed partial class NotificationListener(PostgresStore store, IEnumerable<INotificationHandler> handlers,
    NoticeSeal seal, NotificationListenerStatus status, ILogger<NotificationListener> logger) : BackgroundService
{
    /// <summary>How the listening session shows in <c>pg_stat_activity</c>.</summary>
    public const string ApplicationName = "dot-listener";

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);
    private const long RejectedWarningEveryMs = 60_000;

    private long _rejectedUnreported;
    private long _nextRejectedWarningMs = long.MinValue;

    private readonly Dictionary<string, INotificationHandler[]> _byChannel = handlers
        .GroupBy(h => h.Channel, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_byChannel.Count == 0)
        {
            return;
        }

        var connectionString = new NpgsqlConnectionStringBuilder(store.ConnectionString)
        {
            ApplicationName = ApplicationName,
            Pooling = false,
            KeepAlive = 5,
            Multiplexing = false,
        }.ConnectionString;
        var backoff = FirstBackoff;
        var listening = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                seal.LoadKeys();
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
                await connection.OpenAsync(stoppingToken);
                foreach (var channel in _byChannel.Keys)
                {
                    await using var listen = new NpgsqlCommand($"LISTEN \"{channel}\"", connection);
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                listening = true;
                status.OnConnected();
                Log.Listening(logger, _byChannel.Count);
                foreach (var handler in _byChannel.Values.SelectMany(h => h))
                {
                    handler.Resubscribed();
                }

                backoff = FirstBackoff;
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                if (listening)
                {
                    listening = false;
                    status.OnDisconnected();
                    Log.Lost(logger, ex.GetType().Name);
                }
                else
                {
                    Log.CannotListen(logger, ex.GetType().Name, backoff.TotalMilliseconds);
                }
            }

            try
            {
                await Task.Delay(backoff, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }

        if (listening)
        {
            status.OnDisconnected();
        }
    }

    /// <summary>Opens and hands a notice to its handlers; it counts as received once that is done, so whoever waits for
    /// <see cref="NotificationListenerStatus.Received"/> sees its effect.</summary>
    private void Dispatch(string channel, string payload)
    {
        try
        {
            Handle(channel, payload);
        }
        finally
        {
            status.OnReceived();
        }
    }

    private void Handle(string channel, string payload)
    {
        if (!_byChannel.TryGetValue(channel, out var subscribers))
        {
            return;
        }

        string body;
        try
        {
            if (!seal.TryOpen(channel, payload, out body))
            {
                Rejected(channel);
                return;
            }
        }
        catch (Exception ex)
        {
            // The key ring could not be read (the database is away): the notice is lost, as it would be disconnected.
            Log.CannotOpen(logger, channel, ex.GetType().Name);
            Rejected(channel);
            return;
        }

        foreach (var handler in subscribers)
        {
            try
            {
                handler.Notified(body);
            }
            catch (Exception ex)
            {
                Log.HandlerFailed(logger, channel, ex.GetType().Name);
            }
        }
    }

    /// <summary>Counted always, logged at most once a minute with how many since the last line: a flood writes one line a minute.</summary>
    private void Rejected(string channel)
    {
        status.OnRejected();
        _rejectedUnreported++;
        var now = Environment.TickCount64;
        if (now >= _nextRejectedWarningMs)
        {
            Log.RejectedNotices(logger, _rejectedUnreported, channel);
            _rejectedUnreported = 0;
            _nextRejectedWarningMs = now + RejectedWarningEveryMs;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Listening for changes from the other instances on {Channels} PostgreSQL channels")]
        public static partial void Listening(ILogger logger, int channels);

        [LoggerMessage(2, LogLevel.Information, "Lost the PostgreSQL listening connection ({Error}); reconnecting, and until then changes made elsewhere are seen within the cache's lifetime")]
        public static partial void Lost(ILogger logger, string error);

        [LoggerMessage(3, LogLevel.Information, "Could not listen on PostgreSQL ({Error}); trying again in {DelayMs} ms")]
        public static partial void CannotListen(ILogger logger, string error, double delayMs);

        [LoggerMessage(4, LogLevel.Warning, "A handler of the {Channel} channel failed ({Error})")]
        public static partial void HandlerFailed(ILogger logger, string channel, string error);

        [LoggerMessage(5, LogLevel.Warning, "Dropped {Count} PostgreSQL notifications (the last on {Channel}) not sealed by an instance of this deployment, too old, or sent again: another session of the database is sending on the instances' channels (see docs/scale-out.md on the database role)")]
        public static partial void RejectedNotices(ILogger logger, long count, string channel);

        [LoggerMessage(6, LogLevel.Warning, "Could not open a notification on {Channel} ({Error}); it is dropped")]
        public static partial void CannotOpen(ILogger logger, string channel, string error);
    }
}

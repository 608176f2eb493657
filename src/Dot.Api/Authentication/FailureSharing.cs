using System.Data.Common;
using System.Globalization;
using System.Text;
using Dot.Api.Data;

namespace Dot.Api.Authentication;

/// <summary>
/// Where instances share the store (PostgreSQL; <see cref="IStoreProvider.NotifiesOtherInstances"/>), one failure
/// budget for the whole deployment (API.md §7); elsewhere it does nothing. Every <see cref="Interval"/> this instance
/// sends the failures it refused since the last time, summed per client, on <see cref="NotificationChannels.AuthFailures"/>
/// (<c>instance key:count key:count …</c>, split so that each sealed payload stays below PostgreSQL's 8000-byte limit,
/// and sealed by <see cref="NoticeSeal"/>: no other session of the database can add to a window); every instance adds the other
/// instances' counts to its own windows (<see cref="FailureThrottle.AddShared"/>) and skips its own. So a client that
/// spreads its guesses over N instances meets the one limit, late by at most an interval and the notification's
/// trip. Nothing of it runs on a request: a refusal only counts in memory, and a success touches nothing. What was
/// refused while the database could not be reached is counted where it was refused only.
/// </summary>
internal sealed partial class FailureSharing : BackgroundService, INotificationHandler
{
    /// <summary>How often counts are sent: the slack of the shared budget.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly FailureThrottle _throttle;
    private readonly IStoreProvider _store;
    private readonly NoticeSeal _seal;
    private readonly ILogger<FailureSharing> _logger;
    private bool _failing;

    public FailureSharing(FailureThrottle throttle, IStoreProvider store, NoticeSeal seal, ILogger<FailureSharing> logger)
    {
        _throttle = throttle;
        _store = store;
        _seal = seal;
        _logger = logger;
        if (store.NotifiesOtherInstances)
        {
            throttle.ShareFailures();
        }
    }

    /// <summary>This process among the instances: its own notifications come back to it and are skipped.</summary>
    public string InstanceId { get; } = Guid.NewGuid().ToString("N");

    public string Channel => NotificationChannels.AuthFailures;

    /// <summary>Failures of other instances counted here since start (for the tests and for operators).</summary>
    public long ReceivedFailures => Interlocked.Read(ref _receivedFailures);

    private long _receivedFailures;

    /// <summary>
    /// Sends on the wall clock, not the injected <see cref="TimeProvider"/>: the cadence is about the network, and a
    /// test's frozen clock must not stop it (the windows themselves are on the injected clock).
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_store.NotifiesOtherInstances)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await SendAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        var taken = _throttle.TakeUnshared();
        if (taken.Count == 0)
        {
            return;
        }

        try
        {
            foreach (var body in Payloads(InstanceId, taken))
            {
                var payload = _seal.Seal(NotificationChannels.AuthFailures, body);
                await _store.NotifyAsync(NotificationChannels.AuthFailures, payload, cancellationToken);
            }

            if (_failing)
            {
                _failing = false;
                Log.Sending(_logger);
            }
        }
        catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            if (!_failing)
            {
                _failing = true;
                Log.CannotSend(_logger, ex.GetType().Name);
            }
        }
    }

    /// <summary>
    /// The counts as bodies of at most <see cref="NoticeSeal.MaxBodyBytes"/> bytes (ASCII: a byte a character), so that
    /// each sealed payload is under <see cref="NotificationChannels.MaxPayloadBytes"/>.
    /// </summary>
    internal static List<string> Payloads(string instanceId, IEnumerable<(FailureThrottle.ClientKey Key, int Count)> counts)
    {
        var payloads = new List<string>();
        var text = new StringBuilder(instanceId);
        foreach (var (key, count) in counts)
        {
            var item = string.Create(CultureInfo.InvariantCulture, $" {key}:{count}");
            if (text.Length + item.Length > NoticeSeal.MaxBodyBytes)
            {
                payloads.Add(text.ToString());
                text.Clear().Append(instanceId);
            }

            text.Append(item);
        }

        payloads.Add(text.ToString());
        return payloads;
    }

    public void Notified(string payload)
    {
        var text = payload.AsSpan();
        var space = text.IndexOf(' ');
        if (space <= 0 || text[..space].SequenceEqual(InstanceId))
        {
            return;
        }

        foreach (var range in text[(space + 1)..].Split(' '))
        {
            var item = text[(space + 1)..][range];
            var colon = item.LastIndexOf(':');
            if (colon > 0 && FailureThrottle.ClientKey.TryParse(item[..colon], out var key)
                && int.TryParse(item[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                _throttle.AddShared(key, count);
                Interlocked.Add(ref _receivedFailures, count);
            }
        }
    }

    /// <summary>Counts sent while this instance was not listening are not had again: the windows keep what they have.</summary>
    public void Resubscribed()
    {
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not send this instance's refused-credential counts to the others ({Error}); they count here only until it can")]
        public static partial void CannotSend(ILogger logger, string error);

        [LoggerMessage(2, LogLevel.Information, "Sending refused-credential counts to the other instances again")]
        public static partial void Sending(ILogger logger);
    }
}

using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace Dot.Api.Authentication;

/// <summary><c>Dot:Auth</c> throttling settings (API.md §7).</summary>
public sealed class ThrottleOptions
{
    public const string Section = "Dot:Auth";

    /// <summary>Failures allowed per client address within a window; past it, credentials get 429.</summary>
    public int MaxFailuresPerMinute { get; set; } = 60;

    /// <summary>The window's length (a minute unless a test or an operator says otherwise).</summary>
    public int FailureWindowSeconds { get; set; } = 60;

    /// <summary>Off only for benchmarks that hammer the server with bad tokens on purpose.</summary>
    public bool ThrottleEnabled { get; set; } = true;

    /// <summary>Most addresses tracked at once; past it, windows that have ended are swept.</summary>
    public int MaxTrackedAddresses { get; set; } = 100_000;
}

/// <summary>
/// Counts refused credentials per client address in fixed windows. Once an address passes the
/// limit, every request of it that carries a credential is answered 429 until its window ends —
/// a correct guess included.
/// </summary>
public sealed class FailureThrottle(IOptions<ThrottleOptions> options, TimeProvider time)
{
    private readonly ThrottleOptions _options = options.Value;
    private readonly ConcurrentDictionary<IPAddress, Window> _windows = new();
    private static readonly IPAddress Unknown = IPAddress.None;

    public bool Enabled => _options.ThrottleEnabled;

    /// <summary>Seconds until the address may try again, or null when it is not throttled.</summary>
    public int? RetryAfterSeconds(IPAddress? address)
    {
        if (!_options.ThrottleEnabled || !_windows.TryGetValue(Key(address), out var window))
        {
            return null;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var ends = window.Start.AddSeconds(_options.FailureWindowSeconds);
        if (now >= ends || window.Count <= _options.MaxFailuresPerMinute)
        {
            return null;
        }

        return Math.Max(1, (int)Math.Ceiling((ends - now).TotalSeconds));
    }

    public void RecordFailure(IPAddress? address)
    {
        if (!_options.ThrottleEnabled)
        {
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var windowLength = TimeSpan.FromSeconds(_options.FailureWindowSeconds);
        if (_windows.Count >= _options.MaxTrackedAddresses)
        {
            Sweep(now, windowLength);
        }

        _windows.AddOrUpdate(Key(address),
            static (_, now) => new Window(now, 1),
            (_, current, now) => now - current.Start >= windowLength ? new Window(now, 1) : current with { Count = current.Count + 1 },
            now);
    }

    private void Sweep(DateTime now, TimeSpan windowLength)
    {
        foreach (var (address, window) in _windows)
        {
            if (now - window.Start >= windowLength)
            {
                _windows.TryRemove(address, out _);
            }
        }
    }

    private static IPAddress Key(IPAddress? address)
        => address is null ? Unknown : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private readonly record struct Window(DateTime Start, int Count);
}

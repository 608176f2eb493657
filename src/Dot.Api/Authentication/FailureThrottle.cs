using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
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

    /// <summary>Most clients (IPv4 addresses, IPv6 /64s) tracked at once: the bound on the throttle's memory.</summary>
    public int MaxTrackedAddresses { get; set; } = 100_000;
}

/// <summary>A bad throttle setting stops the start with a sentence naming its key.</summary>
internal sealed class ThrottleOptionsValidator : IValidateOptions<ThrottleOptions>
{
    public ValidateOptionsResult Validate(string? name, ThrottleOptions options)
    {
        var failures = new List<string>();
        if (options.MaxFailuresPerMinute < 1)
        {
            failures.Add($"{ThrottleOptions.Section}:MaxFailuresPerMinute must be at least 1; it is {options.MaxFailuresPerMinute}.");
        }

        if (options.FailureWindowSeconds < 1)
        {
            failures.Add($"{ThrottleOptions.Section}:FailureWindowSeconds must be at least 1 (seconds); it is {options.FailureWindowSeconds}.");
        }

        if (options.MaxTrackedAddresses < 10)
        {
            failures.Add($"{ThrottleOptions.Section}:MaxTrackedAddresses must be at least 10; it is {options.MaxTrackedAddresses}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Counts refused credentials per client — an IPv4 address, or an IPv6 /64 (one host's usual allocation, so a
/// client cannot get a fresh budget from every address of its own prefix) — in fixed windows. Once a client passes
/// the limit, every request of it that carries a credential is answered 429 until its window ends, a correct guess
/// included. Memory is bounded by <see cref="ThrottleOptions.MaxTrackedAddresses"/>: when the map is full, ended
/// windows are swept, then clients still under the limit are forgotten (never a throttled one); if every tracked
/// client is throttled, further clients share one overflow window, so a flood from endless addresses still meets
/// a limit. With PostgreSQL the instances share one budget: each sends what it refused to the others
/// (<see cref="FailureSharing"/>) and counts what they refused as its own.
/// </summary>
public sealed class FailureThrottle(IOptions<ThrottleOptions> options, TimeProvider time)
{
    private readonly ThrottleOptions _options = options.Value;
    private readonly ConcurrentDictionary<ClientKey, Window> _windows = new();
    private readonly Lock _room = new();
    private readonly ConcurrentDictionary<ClientKey, int> _unshared = new();
    private int _tracked;
    private int _unsharedClients;
    private volatile bool _sharing;
    private Window _overflow;

    public bool Enabled => _options.ThrottleEnabled;

    /// <summary>How many clients have a window now (at most <see cref="ThrottleOptions.MaxTrackedAddresses"/>).</summary>
    public int TrackedClients => Volatile.Read(ref _tracked);

    /// <summary>Seconds until the address may try again, or null when it is not throttled.</summary>
    public int? RetryAfterSeconds(IPAddress? address)
    {
        if (!_options.ThrottleEnabled)
        {
            return null;
        }

        if (_windows.TryGetValue(ClientKey.From(address), out var window))
        {
            return RetryAfter(window);
        }

        lock (_room)
        {
            return _overflow.Count > 0 ? RetryAfter(_overflow) : null;
        }
    }

    public void RecordFailure(IPAddress? address)
    {
        if (!_options.ThrottleEnabled)
        {
            return;
        }

        var key = ClientKey.From(address);
        Record(key, 1);
        if (_sharing)
        {
            Unshare(key);
        }
    }

    /// <summary>
    /// From now on, failures recorded here are also kept for <see cref="TakeUnshared"/>, until taken: on
    /// PostgreSQL, <see cref="FailureSharing"/> sends them to the other instances.
    /// </summary>
    internal void ShareFailures() => _sharing = true;

    /// <summary>
    /// The failures recorded here since the last call, per client, and forgets them. At most
    /// <see cref="ThrottleOptions.MaxTrackedAddresses"/> clients are held between two calls; failures of further
    /// clients count here only.
    /// </summary>
    internal List<(ClientKey Key, int Count)> TakeUnshared()
    {
        var taken = new List<(ClientKey, int)>(_unshared.Count);
        foreach (var key in _unshared.Keys)
        {
            if (_unshared.TryRemove(key, out var count))
            {
                Interlocked.Decrement(ref _unsharedClients);
                taken.Add((key, count));
            }
        }

        return taken;
    }

    /// <summary>Failures another instance refused: they count in this client's window as this instance's own do.</summary>
    internal void AddShared(ClientKey key, int count)
    {
        if (_options.ThrottleEnabled && count > 0)
        {
            Record(key, count);
        }
    }

    private void Unshare(ClientKey key)
    {
        while (true)
        {
            if (_unshared.TryGetValue(key, out var count))
            {
                if (_unshared.TryUpdate(key, count + 1, count))
                {
                    return;
                }

                continue;
            }

            if (Volatile.Read(ref _unsharedClients) >= _options.MaxTrackedAddresses)
            {
                return;
            }

            if (_unshared.TryAdd(key, 1))
            {
                Interlocked.Increment(ref _unsharedClients);
                return;
            }
        }
    }

    private void Record(ClientKey key, int count)
    {
        var now = time.GetUtcNow().UtcDateTime;
        while (true)
        {
            if (_windows.TryGetValue(key, out var current))
            {
                if (_windows.TryUpdate(key, Next(current, now, count), current))
                {
                    return;
                }

                continue;
            }

            if (Volatile.Read(ref _tracked) >= _options.MaxTrackedAddresses && !MakeRoom(now))
            {
                lock (_room)
                {
                    _overflow = Next(_overflow, now, count);
                }

                return;
            }

            if (_windows.TryAdd(key, new Window(now, count)))
            {
                Interlocked.Increment(ref _tracked);
                return;
            }
        }
    }

    private int? RetryAfter(Window window)
    {
        var ends = window.Start.AddSeconds(_options.FailureWindowSeconds);
        var now = time.GetUtcNow().UtcDateTime;
        return now >= ends || window.Count <= _options.MaxFailuresPerMinute
            ? null
            : Math.Max(1, (int)Math.Ceiling((ends - now).TotalSeconds));
    }

    private Window Next(Window current, DateTime now, int count)
        => current.Count == 0 || now - current.Start >= TimeSpan.FromSeconds(_options.FailureWindowSeconds)
            ? new Window(now, count)
            : current with { Count = (int)Math.Min(int.MaxValue, (long)current.Count + count) };

    /// <summary>Sweeps ended windows, then forgets clients under the limit, down to 90 % of the bound; false when nothing could go.</summary>
    private bool MakeRoom(DateTime now)
    {
        lock (_room)
        {
            var max = _options.MaxTrackedAddresses;
            if (Volatile.Read(ref _tracked) < max)
            {
                return true;
            }

            var windowLength = TimeSpan.FromSeconds(_options.FailureWindowSeconds);
            var target = max - Math.Max(1, max / 10);
            foreach (var (key, window) in _windows)
            {
                if (now - window.Start >= windowLength)
                {
                    Forget(key);
                }
            }

            foreach (var (key, window) in _windows)
            {
                if (Volatile.Read(ref _tracked) <= target)
                {
                    break;
                }

                if (window.Count <= _options.MaxFailuresPerMinute)
                {
                    Forget(key);
                }
            }

            return Volatile.Read(ref _tracked) < max;
        }
    }

    private void Forget(ClientKey key)
    {
        if (_windows.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _tracked);
        }
    }

    private readonly record struct Window(DateTime Start, int Count);

    /// <summary>An IPv4 address, or the /64 prefix of an IPv6 one, as two numbers (no allocation per request).</summary>
    internal readonly record struct ClientKey(ulong High, ulong Low)
    {
        private static readonly ClientKey Unknown = new(ulong.MaxValue, ulong.MaxValue);

        /// <summary>As the other instances read it: the two numbers in hex, <c>high.low</c>.</summary>
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{High:x}.{Low:x}");

        public static bool TryParse(ReadOnlySpan<char> text, out ClientKey key)
        {
            key = default;
            var dot = text.IndexOf('.');
            if (dot <= 0
                || !ulong.TryParse(text[..dot], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
                || !ulong.TryParse(text[(dot + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low))
            {
                return false;
            }

            key = new ClientKey(high, low);
            return true;
        }

        public static ClientKey From(IPAddress? address)
        {
            if (address is null)
            {
                return Unknown;
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            Span<byte> bytes = stackalloc byte[16];
            if (!address.TryWriteBytes(bytes, out var written))
            {
                return Unknown;
            }

            return written == 4
                ? new ClientKey(0, 0xFFFF_0000_0000UL | BinaryPrimitives.ReadUInt32BigEndian(bytes))
                : new ClientKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), 0);
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace Dot.Api.Data;

/// <summary>
/// What makes a notice between instances authentic (API.md §7): any session of the database may <c>NOTIFY</c> on the
/// instances' channels, so every payload is sealed by the sender and opened by the listener before a feature sees it.
/// A payload is the Data Protection key ring's authenticated encryption (purpose <see cref="Purpose"/>, the channel as
/// sub-purpose) of a random 16-byte nonce, the sender's wall-clock time in Unix milliseconds and the body, in
/// base64url. The key ring is in the database (<c>Connections/ConnectionsExtensions.cs</c>), readable by the
/// instances and the CLI only: a role that can merely connect can neither forge a notice nor read one (failure counts
/// name client addresses). It can capture a sealed notice by <c>LISTEN</c> and send it again, so a notice is accepted
/// only within <see cref="Window"/> of this instance's wall clock and only once: the nonces of the window are
/// remembered. Not an ordering by sender: the notices of several transactions are delivered in commit order, not in
/// the order they were sealed.
/// </summary>
public sealed class NoticeSeal
{
    /// <summary>The Data Protection purpose of every notice; the channel is its sub-purpose.</summary>
    public const string Purpose = "Dot.Notices.v1";

    /// <summary>How far from this instance's wall clock a notice's time may be (the clocks' skew plus the trip).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The largest body that seals below <see cref="NotificationChannels.MaxPayloadBytes"/>: base64url of 5,999 bytes
    /// fits in 7,999 characters; the nonce and time take 24 and Data Protection's default algorithm (AES-256-CBC with
    /// HMAC-SHA256: magic header, key id, key modifier, IV, padding, MAC) at most 100; the rest is margin.
    /// </summary>
    public const int MaxBodyBytes = 5_600;

    /// <summary>
    /// At most this many nonces are remembered (about 6 MB). Only authentic notices are remembered, so only a burst of
    /// the deployment's own fills it; then the oldest is forgotten and a notice no newer than it is refused from then
    /// on, so a forgotten nonce can never be accepted again.
    /// </summary>
    internal const int MaxRemembered = 100_000;

    private const int NonceBytes = 16;
    private const int HeaderBytes = NonceBytes + sizeof(long);

    private readonly IDataProtectionProvider _provider;
    private readonly TimeProvider _clock;
    private readonly int _maxRemembered;
    private readonly ConcurrentDictionary<string, IDataProtector> _protectors = new(StringComparer.Ordinal);
    private readonly Lock _seenLock = new();
    private readonly HashSet<UInt128> _seen = [];
    private readonly Queue<(UInt128 Nonce, long UnixMs)> _arrivals = new();
    private long _floorUnixMs = long.MinValue;

    /// <param name="clock">The wall clock (<see cref="TimeProvider.System"/>), never the server's injected one: the
    /// sender may be the CLI, and the tests freeze each server's clock at a time of their own.</param>
    public NoticeSeal(IDataProtectionProvider provider, TimeProvider clock)
        : this(provider, clock, MaxRemembered)
    {
    }

    /// <summary>With a smaller memory, for the tests.</summary>
    internal NoticeSeal(IDataProtectionProvider provider, TimeProvider clock, int maxRemembered)
    {
        _provider = provider;
        _clock = clock;
        _maxRemembered = maxRemembered;
    }

    /// <summary>The payload to send on <paramref name="channel"/>; throws when the body is over <see cref="MaxBodyBytes"/>.</summary>
    public string Seal(string channel, string body)
    {
        var bodyBytes = Encoding.UTF8.GetByteCount(body);
        if (bodyBytes > MaxBodyBytes)
        {
            throw new ArgumentException($"A notice body is at most {MaxBodyBytes} bytes; this one is {bodyBytes}.", nameof(body));
        }

        var plain = new byte[HeaderBytes + bodyBytes];
        RandomNumberGenerator.Fill(plain.AsSpan(0, NonceBytes));
        BinaryPrimitives.WriteInt64BigEndian(plain.AsSpan(NonceBytes), _clock.GetUtcNow().ToUnixTimeMilliseconds());
        Encoding.UTF8.GetBytes(body, plain.AsSpan(HeaderBytes));
        var payload = Base64Url.EncodeToString(Protector(channel).Protect(plain));
        if (payload.Length > NotificationChannels.MaxPayloadBytes)
        {
            throw new InvalidOperationException($"A sealed notice of {payload.Length} bytes is over PostgreSQL's limit: lower {nameof(MaxBodyBytes)}.");
        }

        return payload;
    }

    /// <summary>
    /// The body of a payload received on <paramref name="channel"/>, when it was sealed for that channel with this
    /// deployment's key ring, within <see cref="Window"/> of now, and not received before; otherwise false, and
    /// nothing is remembered.
    /// </summary>
    public bool TryOpen(string channel, string payload, out string body)
    {
        body = "";
        if (payload.Length is 0 or > NotificationChannels.MaxPayloadBytes)
        {
            return false;
        }

        var sealedBytes = new byte[Base64Url.GetMaxDecodedLength(payload.Length)];
        if (Base64Url.DecodeFromChars(payload, sealedBytes, out _, out var written) != OperationStatus.Done)
        {
            return false;
        }

        byte[] plain;
        try
        {
            plain = Protector(channel).Unprotect(sealedBytes.AsSpan(0, written).ToArray());
        }
        catch (CryptographicException)
        {
            return false;
        }

        if (plain.Length < HeaderBytes)
        {
            return false;
        }

        var nonce = BinaryPrimitives.ReadUInt128BigEndian(plain);
        var sentUnixMs = BinaryPrimitives.ReadInt64BigEndian(plain.AsSpan(NonceBytes));
        var nowUnixMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var windowMs = (long)Window.TotalMilliseconds;
        if (sentUnixMs < nowUnixMs - windowMs || sentUnixMs > nowUnixMs + windowMs || !FirstTime(nonce, sentUnixMs, nowUnixMs - windowMs))
        {
            return false;
        }

        try
        {
            body = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(plain, HeaderBytes, plain.Length - HeaderBytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        return true;
    }

    /// <summary>
    /// Loads the key ring (creating its first key on a new database) before anything is received: a listener that
    /// starts with the ring loaded shares its key with whoever seals next, rather than both making one at once.
    /// </summary>
    public void LoadKeys() => _ = Protector(NotificationChannels.Changes).Protect([]);

    /// <summary>How many nonces are remembered now (for the tests).</summary>
    internal int Remembered
    {
        get
        {
            lock (_seenLock)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>
    /// Remembers the nonce; false when it was seen, or is from before the floor. The floor rises to the time of every
    /// nonce forgotten (gone out of the window, or the oldest when the memory is full), so forgetting never lets a
    /// replay through, whatever the wall clock does meanwhile.
    /// </summary>
    private bool FirstTime(UInt128 nonce, long sentUnixMs, long oldestUnixMs)
    {
        lock (_seenLock)
        {
            while (_arrivals.TryPeek(out var head) && head.UnixMs < oldestUnixMs)
            {
                Forget(_arrivals.Dequeue());
            }

            if (sentUnixMs <= _floorUnixMs || !_seen.Add(nonce))
            {
                return false;
            }

            _arrivals.Enqueue((nonce, sentUnixMs));
            if (_arrivals.Count > _maxRemembered)
            {
                Forget(_arrivals.Dequeue());
            }

            return true;
        }
    }

    private void Forget((UInt128 Nonce, long UnixMs) arrival)
    {
        _seen.Remove(arrival.Nonce);
        _floorUnixMs = Math.Max(_floorUnixMs, arrival.UnixMs);
    }

    private IDataProtector Protector(string channel)
        => _protectors.GetOrAdd(channel, static (c, provider) => provider.CreateProtector(Purpose, c), _provider);
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dot.Api.Validation;

namespace Dot.Api.Tokens;

/// <summary>
/// A token's <c>allowed_ips</c> (API.md §2): addresses and CIDR ranges, IPv4 and IPv6. A bare address is its own
/// /32 or /128; an IPv4-mapped IPv6 entry or client (<c>::ffff:10.0.0.1</c>) is read as the IPv4 address it maps.
/// Stored canonical (<see cref="IPNetwork.ToString"/>, sorted, unique), space-separated; null means from anywhere.
/// </summary>
public static class AllowedIps
{
    public const int MaxCount = 32;
    public const int MaxStoredLength = 2000;

    public static IReadOnlyList<string>? Parse(IReadOnlyList<string?>? requested, string field, FieldErrors errors)
    {
        if (requested is null)
        {
            return null;
        }

        if (requested.Count is 0 or > MaxCount)
        {
            errors.Add(field, $"{field} must list 1 to {MaxCount} addresses or CIDR ranges (leave it out for a token usable from anywhere).");
            return null;
        }

        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var raw in requested)
        {
            if (TryParseOne(raw, out var network))
            {
                set.Add(network.ToString());
            }
            else
            {
                errors.Add(field, $"'{raw}' is not an IP address or CIDR range (such as 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32).");
                return null;
            }
        }

        return [.. set];
    }

    public static bool TryParseOne(string? raw, out IPNetwork network)
    {
        network = default;
        var text = raw?.Trim();
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return false;
        }

        // Canonical text only (API.md §2): IPAddress.TryParse also takes 127.1, 0x7f.1, 2130706437, 010.0.0.1 (octal
        // elsewhere), [::1]:80 and zone ids, and would silently rewrite them into an address the writer never meant.
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IsCanonicalAddress(slash < 0 ? text : text.AsSpan(0, slash))
            || (slash >= 0 && !IsDecimal(text.AsSpan(slash + 1), maxDigits: 3)))
        {
            return false;
        }

        if (slash < 0)
        {
            if (!IPAddress.TryParse(text, out var address))
            {
                return false;
            }

            address = Normalize(address);
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        // A range with bits set past its prefix (10.0.0.1/8) is refused: a typo is a 422, not a silent widening.
        if (!IPNetwork.TryParse(text, out network)
            || !IPAddress.TryParse(text.AsSpan(0, slash), out var written)
            || !written.Equals(network.BaseAddress))
        {
            return false;
        }

        if (network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96)
        {
            network = new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96);
        }

        return true;
    }

    /// <summary>
    /// Dotted-quad IPv4 (four decimal octets, no leading zeros) or RFC 4291 IPv6 text (groups of 1–4 hex digits, one
    /// <c>::</c> at most, an optional dotted-quad tail): the shape only; <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
    /// then reads the value.
    /// </summary>
    private static bool IsCanonicalAddress(ReadOnlySpan<char> text)
    {
        var lastColon = text.LastIndexOf(':');
        if (lastColon < 0)
        {
            return IsDottedQuad(text);
        }

        var tail = text[(lastColon + 1)..];
        if (tail.Contains('.') && !IsDottedQuad(tail))
        {
            return false;
        }

        var groups = tail.Contains('.') ? text[..(lastColon + 1)] : text;
        if (groups.IndexOf("::") != groups.LastIndexOf("::") || groups.Contains(":::", StringComparison.Ordinal))
        {
            return false;
        }

        var run = 0;
        foreach (var c in groups)
        {
            if (c == ':')
            {
                run = 0;
            }
            else if (!char.IsAsciiHexDigit(c) || ++run > 4)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        var octets = 0;
        foreach (var range in text.Split('.'))
        {
            if (++octets > 4 || !IsDecimal(text[range], maxDigits: 3) || int.Parse(text[range], NumberStyles.None, CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }
        }

        return octets == 4;
    }

    /// <summary>1 to <paramref name="maxDigits"/> ASCII digits, without a leading zero unless the number is 0.</summary>
    private static bool IsDecimal(ReadOnlySpan<char> text, int maxDigits)
        => text.Length is > 0 && text.Length <= maxDigits && !text.ContainsAnyExceptInRange('0', '9') && (text[0] != '0' || text.Length == 1);

    public static string? ToStored(IReadOnlyList<string>? networks) => networks is null ? null : string.Join(' ', networks);

    public static IReadOnlyList<string>? FromStored(string? stored)
        => string.IsNullOrEmpty(stored) ? null : stored.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The stored list as networks, for the handler: parsed once per cached token.</summary>
    public static IPNetwork[]? Networks(string? stored)
        => FromStored(stored)?.Select(s => TryParseOne(s, out var n) ? n : (IPNetwork?)null).OfType<IPNetwork>().ToArray();

    /// <summary>Whether <paramref name="client"/> lies in one of <paramref name="networks"/>; an unknown address lies nowhere.</summary>
    public static bool Contains(IPNetwork[] networks, IPAddress? client)
    {
        if (client is null)
        {
            return false;
        }

        var address = Normalize(client);
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    private static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            address = new IPAddress(address.GetAddressBytes());
        }

        return address;
    }
}

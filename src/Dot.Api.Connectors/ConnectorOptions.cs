using System.Net;
using Microsoft.Extensions.Options;

namespace Dot.Api.Connectors;

/// <summary><c>Dot:Connectors</c>: where connectors may read from, checked at start.</summary>
public sealed class ConnectorOptions
{
    public const string Section = "Dot:Connectors";

    /// <summary>
    /// Whether a dbt connection may name a file on the server (<c>manifest_path</c>). Off by default: an admin token
    /// could otherwise make the server read any file its process can read.
    /// </summary>
    public bool AllowManifestPath { get; set; }

    /// <summary>
    /// When not empty, the only hosts connectors reach: host names (<c>cloud.getdbt.com</c>), patterns of subdomains
    /// (<c>*.getdbt.com</c>), addresses (<c>10.1.2.3</c>) or CIDR ranges (<c>10.0.0.0/8</c>), which the resolved
    /// address is checked against. Empty: any host (link-local and cloud metadata addresses are refused either way).
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Addresses or CIDR ranges connectors never connect to, besides link-local and cloud metadata ones.</summary>
    public List<string> BlockedNetworks { get; set; } = [];

    internal static IEnumerable<string> Check(ConnectorOptions o)
    {
        for (var i = 0; i < o.AllowedHosts.Count; i++)
        {
            if (!HostPattern.TryParse(o.AllowedHosts[i], out _))
            {
                yield return $"{Section}:AllowedHosts:{i} must be a host name, a pattern such as *.getdbt.com, an IP address or a CIDR range.";
            }
        }

        for (var i = 0; i < o.BlockedNetworks.Count; i++)
        {
            if (!HostPattern.TryParseNetwork(o.BlockedNetworks[i], out _))
            {
                yield return $"{Section}:BlockedNetworks:{i} must be an IP address or a CIDR range (such as 10.20.0.0/16).";
            }
        }
    }
}

/// <summary>Refuses to start with <c>Dot:Connectors</c> entries that cannot be read, naming each one.</summary>
internal sealed class ConnectorOptionsValidator : IValidateOptions<ConnectorOptions>
{
    public ValidateOptionsResult Validate(string? name, ConnectorOptions options)
    {
        var failures = ConnectorOptions.Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>An entry of <see cref="ConnectorOptions.AllowedHosts"/>: a host name, <c>*.domain</c>, or an address range.</summary>
internal readonly record struct HostPattern(string? Name, string? Suffix, IPNetwork? Network)
{
    public static bool TryParse(string? text, out HostPattern pattern)
    {
        pattern = default;
        var entry = text?.Trim().TrimEnd('.').ToLowerInvariant();
        if (string.IsNullOrEmpty(entry))
        {
            return false;
        }

        if (TryParseNetwork(entry, out var network))
        {
            pattern = new HostPattern(null, null, network);
            return true;
        }

        if (entry.StartsWith("*.", StringComparison.Ordinal) && IsHostName(entry[2..]))
        {
            pattern = new HostPattern(null, entry[1..], null); // ".getdbt.com"
            return true;
        }

        if (IsHostName(entry))
        {
            pattern = new HostPattern(entry, null, null);
            return true;
        }

        return false;
    }

    /// <summary>An address (a one-address range) or a CIDR range.</summary>
    public static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        var entry = text?.Trim().Trim('[', ']');
        if (string.IsNullOrEmpty(entry))
        {
            return false;
        }

        if (IPAddress.TryParse(entry, out var address) && !entry.Contains('/', StringComparison.Ordinal))
        {
            address = ConnectorNetwork.Normalize(address);
            network = new IPNetwork(address, address.GetAddressBytes().Length * 8);
            return true;
        }

        return IPNetwork.TryParse(entry, out network);
    }

    /// <summary>Whether a host name (lowercase, without a trailing dot) matches this name or pattern.</summary>
    public bool Matches(string host)
        => Name is not null ? host == Name : Suffix is not null && host.Length > Suffix.Length && host.EndsWith(Suffix, StringComparison.Ordinal);

    private static bool IsHostName(string name)
        => name.Length is > 0 and <= 253
            && name.Split('.').All(label => label.Length is > 0 and <= 63
                && label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'));
}

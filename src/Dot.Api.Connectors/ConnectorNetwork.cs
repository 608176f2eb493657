using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Dot.Api.Connectors;

/// <summary>Resolves host names for the connectors (replaced in tests, to resolve a name to any address).</summary>
internal interface IConnectorDns
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

internal sealed class SystemConnectorDns : IConnectorDns
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) => Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// <summary>A target a connector may not connect to; the message names the host, the address and the rule.</summary>
internal sealed class ConnectorTargetRefusedException(string message) : IOException(message);

/// <summary>
/// Where connectors may connect, decided on the address each connection is actually made to: a host name is resolved
/// here, every address is checked, and only checked addresses are connected to, so a name that resolves elsewhere
/// between a check and the connect (DNS rebinding) gains nothing. Refused always: link-local addresses (169.254.0.0/16,
/// fe80::/10), where cloud metadata services answer, and the metadata addresses outside them (fd00:ec2::254,
/// fd20:ce::254, 100.100.100.200); then <see cref="ConnectorOptions.BlockedNetworks"/>; and, when
/// <see cref="ConnectorOptions.AllowedHosts"/> is set, anything it does not list. Private ranges and loopback are not
/// refused by default: warehouses live there.
/// </summary>
internal sealed class ConnectorNetwork
{
    private static readonly IPAddress[] MetadataAddresses =
    [
        IPAddress.Parse("169.254.169.254"), // AWS, GCP (metadata.google.internal), Azure, OCI, DigitalOcean
        IPAddress.Parse("fd00:ec2::254"), // AWS, over IPv6
        IPAddress.Parse("fd20:ce::254"), // Google Cloud, over IPv6 (metadata.google.internal on IPv6-only VMs)
        IPAddress.Parse("100.100.100.200"), // Alibaba Cloud
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private readonly IConnectorDns _dns;
    private readonly HostPattern[] _allowed;
    private readonly IPNetwork[] _blocked;

    public ConnectorNetwork(IOptions<ConnectorOptions> options, IConnectorDns dns)
    {
        _dns = dns;
        _allowed = [.. options.Value.AllowedHosts.Select(e => HostPattern.TryParse(e, out var p) ? p : throw new OptionsValidationException(
            ConnectorOptions.Section, typeof(ConnectorOptions), [$"{ConnectorOptions.Section}:AllowedHosts has an entry that cannot be read."]))];
        _blocked = [.. options.Value.BlockedNetworks.Select(e => HostPattern.TryParseNetwork(e, out var n) ? n : throw new OptionsValidationException(
            ConnectorOptions.Section, typeof(ConnectorOptions), [$"{ConnectorOptions.Section}:BlockedNetworks has an entry that cannot be read."]))];
    }

    public bool HasAllowList => _allowed.Length > 0;

    /// <summary>An IPv4 address written as IPv6 (::ffff:a.b.c.d) as the IPv4 address it is.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>Why connectors never connect to <paramref name="address"/> (whatever the settings); null when they may.</summary>
    public static string? AlwaysRefused(IPAddress address)
    {
        address = Normalize(address);
        if (Nat64.Contains(address))
        {
            // 64:ff9b::a9fe:a9fe is 169.254.169.254 through a NAT64 gateway.
            return AlwaysRefused(new IPAddress(address.GetAddressBytes()[12..]));
        }

        if (MetadataAddresses.Any(m => m.Equals(address)))
        {
            return "a cloud metadata address";
        }

        if (address.IsIPv6LinkLocal
            || (address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes() is [169, 254, _, _]))
        {
            return "a link-local address (where cloud metadata services answer)";
        }

        return null;
    }

    /// <summary>Whether the host name (not an address) is one <see cref="ConnectorOptions.AllowedHosts"/> lists; true without a list.</summary>
    public bool IsAllowedName(string host)
    {
        var name = host.TrimEnd('.').ToLowerInvariant();
        return !HasAllowList || _allowed.Any(p => p.Matches(name));
    }

    /// <summary>
    /// The addresses of <paramref name="host"/> (a name or an address) that connectors may connect to, in the order
    /// resolved; throws <see cref="ConnectorTargetRefusedException"/> naming the address and the rule when none is.
    /// </summary>
    /// <exception cref="SocketException">The name does not resolve.</exception>
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        host = host.Trim().Trim('[', ']');
        var literal = IPAddress.TryParse(host, out var parsed);
        var nameAllowed = !literal && IsAllowedName(host);
        var addresses = literal ? [parsed!] : await _dns.ResolveAsync(host, cancellationToken);
        var allowed = new List<IPAddress>();
        string? refusal = null;
        foreach (var resolved in addresses)
        {
            var address = Normalize(resolved);
            var shown = literal ? address.ToString() : $"{host} ({address})";
            string? reason = null;
            if (AlwaysRefused(address) is { } why)
            {
                reason = $"{shown} is {why}: connectors never connect there";
            }
            else if (Array.FindIndex(_blocked, n => n.Contains(address)) is var b and >= 0)
            {
                reason = $"{shown} is in {_blocked[b]}, which {ConnectorOptions.Section}:BlockedNetworks refuses";
            }
            else if (HasAllowList && !nameAllowed && !_allowed.Any(p => p.Network is { } n && n.Contains(address)))
            {
                reason = $"{(literal ? shown : host)} is not in {ConnectorOptions.Section}:AllowedHosts: connectors on this server reach only the hosts listed there";
            }

            if (reason is null)
            {
                allowed.Add(address);
            }
            else
            {
                refusal ??= reason;
            }
        }

        return allowed.Count > 0
            ? allowed
            : throw new ConnectorTargetRefusedException(refusal ?? $"{host} resolves to no address");
    }

    /// <summary>
    /// <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host, checks every address, and connects to the
    /// first allowed one that answers. Nothing is sent to an address before it is checked.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(context.DnsEndPoint.Host, cancellationToken);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }
}

using System.Net;
using System.Net.Sockets;

namespace Dot.Api.Connectors.Tests.Infrastructure;

/// <summary>Resolves the names it is given to the addresses it is given (any other name does not resolve), counting lookups.</summary>
internal sealed class FakeConnectorDns(Dictionary<string, IPAddress[]> names) : IConnectorDns
{
    public int Lookups { get; private set; }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        Lookups++;
        return names.TryGetValue(host, out var addresses)
            ? Task.FromResult(addresses)
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}

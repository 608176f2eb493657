using System.Net;
using System.Net.Sockets;

namespace Dot.Api.Connectors;

/// <summary>
/// The bound on everything a database connector does before its first query: resolving the host, opening the socket,
/// the TLS and login handshakes. It fires a little after the client library's own connect timeout, in case a step of
/// the handshake does not honour it (SqlClient's strict-encryption handshake does not), and <see cref="Expired"/> tells
/// it apart from the run being cancelled.
/// </summary>
internal sealed class ConnectDeadline : IDisposable
{
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenSource _linked;
    private readonly CancellationToken _cancelled;

    public ConnectDeadline(int seconds, CancellationToken cancelled)
    {
        Seconds = seconds;
        _cancelled = cancelled;
        _deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 2));
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancelled, _deadline.Token);
    }

    /// <summary>The connect timeout the connection's settings give (<c>connect_timeout_seconds</c>).</summary>
    public int Seconds { get; }

    /// <summary>Cancelled when the deadline passes or the run is cancelled.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>The deadline passed, and the run itself was not cancelled.</summary>
    public bool Expired => _deadline.IsCancellationRequested && !_cancelled.IsCancellationRequested;

    /// <summary>"could not connect to db:5432: no answer within 10 s (connect_timeout_seconds)".</summary>
    public SyncFailedException NoAnswer(string endpoint)
        => new($"could not connect to {endpoint}: no answer within {Seconds} s (connect_timeout_seconds)");

    /// <summary>
    /// The addresses of <paramref name="host"/> a connector may connect to (<see cref="ConnectorNetwork.ResolveAsync"/>),
    /// or a <see cref="SyncFailedException"/> that names <paramref name="endpoint"/> and the reason: refused by the
    /// address rules, not resolving, or not resolving in time.
    /// </summary>
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(ConnectorNetwork network, string host, string endpoint)
    {
        try
        {
            return await network.ResolveAsync(host, Token);
        }
        catch (ConnectorTargetRefusedException ex)
        {
            throw new SyncFailedException($"refused to connect to {endpoint}: {ex.Message}");
        }
        catch (SocketException ex)
        {
            throw new SyncFailedException($"could not connect to {endpoint}: {ex.Message}", ex);
        }
        catch (OperationCanceledException) when (Expired)
        {
            throw new SyncFailedException($"could not connect to {endpoint}: the host name did not resolve within {Seconds} s");
        }
    }

    public void Dispose()
    {
        _linked.Dispose();
        _deadline.Dispose();
    }
}

using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Dot.Api.Connectors;

/// <summary>
/// What the <c>postgres</c> and <c>redshift</c> connectors share: connecting through Npgsql to an address
/// <see cref="ConnectorNetwork"/> checked, one read-only transaction for every catalogue query, and failures told in
/// the same words ("authentication failed for user …", "could not connect to host:port: …", "timed out after N s").
/// </summary>
internal sealed partial class PostgresSession
{
    /// <summary>
    /// PostgreSQL: a repeatable-read snapshot. Redshift's BEGIN takes the same words (its grammar:
    /// <c>BEGIN [ISOLATION LEVEL option] [READ WRITE | READ ONLY]</c>) and runs every level as serializable, which is a
    /// snapshot too. Sent as SQL rather than through <c>BeginTransaction</c> so that READ ONLY is in the same statement:
    /// Redshift does not document <c>SET TRANSACTION</c>.
    /// </summary>
    private const string BeginReadOnly = "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY";

    private readonly NpgsqlConnection _connection;
    private readonly CancellationToken _cancellationToken;

    private PostgresSession(NpgsqlConnection connection, PostgresTarget target, CancellationToken cancellationToken)
    {
        _connection = connection;
        Target = target;
        _cancellationToken = cancellationToken;
    }

    public PostgresTarget Target { get; }

    /// <summary>
    /// Opens a connection to the job's target and has <paramref name="read"/> run its queries in one read-only
    /// transaction; a failure of the connection or of a query becomes a <see cref="SyncFailedException"/> that names the
    /// cause. Logs the target (secrets scrubbed) and what was read.
    /// </summary>
    public static async Task<CatalogSnapshot> ReadCatalogAsync(ConnectorNetwork network, SyncJob job, PostgresFlavor flavor, ILogger logger,
        Func<PostgresSession, Task<CatalogSnapshot>> read, CancellationToken ct)
    {
        var target = PostgresTarget.From(job, flavor);
        Log.Connecting(logger, job.SyncId, flavor.Product, job.Secrets.Scrub(target.Endpoint), job.Secrets.Scrub(target.Database ?? "(default)"),
            job.Secrets.Scrub(target.User ?? "(none)"));
        var (dataSource, connection) = await OpenAsync(network, target, ct);
        await using var ownsDataSource = dataSource;
        await using var ownsConnection = connection;

        CatalogSnapshot snapshot;
        try
        {
            var session = new PostgresSession(connection, target, ct);
            await session.ExecuteAsync(BeginReadOnly);
            snapshot = await read(session);
            await session.ExecuteAsync("COMMIT");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Failure(ex, target, connecting: false);
        }

        Log.Read(logger, job.SyncId, snapshot.Schemas.Count, snapshot.TablesCount, snapshot.ColumnsCount);
        return snapshot;
    }

    /// <summary>Runs a catalogue query (bounded by <c>command_timeout_seconds</c>) and hands each row to <paramref name="row"/>.</summary>
    public async Task QueryAsync(string sql, Action<NpgsqlDataReader> row)
    {
        await using var command = new NpgsqlCommand(sql, _connection) { CommandTimeout = Target.CommandTimeoutSeconds };
        await using var reader = await command.ExecuteReaderAsync(_cancellationToken);
        while (await reader.ReadAsync(_cancellationToken))
        {
            row(reader);
        }
    }

    public static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private async Task ExecuteAsync(string sql)
    {
        await using var command = new NpgsqlCommand(sql, _connection) { CommandTimeout = Target.CommandTimeoutSeconds };
        await command.ExecuteNonQueryAsync(_cancellationToken);
    }

    /// <summary>
    /// Resolves each host here and checks every address (<see cref="ConnectorNetwork"/>), then opens a connection to a
    /// checked address, the next one when it does not answer: Npgsql never resolves a name itself, so a name that
    /// resolves elsewhere at connect time (DNS rebinding) gains nothing. TLS still verifies the host name: the
    /// handshake's target host (SNI and certificate check, verify-full included) is the name, not the address.
    /// </summary>
    private static async Task<(NpgsqlDataSource, NpgsqlConnection)> OpenAsync(ConnectorNetwork network, PostgresTarget target, CancellationToken ct)
    {
        // Npgsql's own connect timeout, and ours a little later in case a step of the handshake does not honour it.
        using var deadline = new ConnectDeadline(target.ConnectTimeoutSeconds, ct);
        var candidates = new List<(string Host, string? Name, int Port)>();
        foreach (var (host, port) in target.Hosts())
        {
            if (host.StartsWith('/') || host.StartsWith('@'))
            {
                // A Unix socket: on this machine, never a network address; it is not a host AllowedHosts can list.
                if (network.HasAllowList)
                {
                    throw new SyncFailedException($"refused to connect to {target.Endpoint}: the host {host} is a Unix socket, not a host in {ConnectorOptions.Section}:AllowedHosts");
                }

                candidates.Add((host, null, port));
                continue;
            }

            var name = IPAddress.TryParse(host.Trim('[', ']'), out _) ? null : host;
            foreach (var address in await deadline.ResolveAsync(network, host, target.Endpoint))
            {
                candidates.Add((address.ToString(), name, port));
            }
        }

        if (candidates.Count == 0)
        {
            throw new SyncFailedException(PostgresTarget.NoHost(target.Flavor));
        }

        for (var i = 0; ; i++)
        {
            var (host, name, port) = candidates[i];
            var builder = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(target.ConnectionString) { Host = host, Port = port }.ConnectionString);
            builder.ConfigureTypeLoading(types => types.EnableTypeLoading(target.Flavor.LoadTypes));
            if (name is not null)
            {
                builder.UseSslClientAuthenticationOptionsCallback(tls => tls.TargetHost = name);
            }

            var dataSource = builder.Build();
            var connection = dataSource.CreateConnection();
            try
            {
                await OpenAsync(connection, target, deadline);
                return (dataSource, connection);
            }
            catch (SyncFailedException ex) when (i + 1 < candidates.Count && ExceptionChain.Find<SocketException>(ex) is not null)
            {
                // That address does not answer: the next one of the same name (an IPv6 and an IPv4 address), or the next host.
                await connection.DisposeAsync();
                await dataSource.DisposeAsync();
            }
            catch
            {
                await connection.DisposeAsync();
                await dataSource.DisposeAsync();
                throw;
            }
        }
    }

    private static async Task OpenAsync(NpgsqlConnection connection, PostgresTarget target, ConnectDeadline deadline)
    {
        try
        {
            await connection.OpenAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.Expired)
        {
            throw deadline.NoAnswer(target.Endpoint);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or SocketException or ArgumentException)
        {
            throw Failure(ex, target, connecting: true);
        }
    }

    /// <summary>
    /// What went wrong, in words an operator can act on: "authentication failed for user …", "could not connect to
    /// host:port: …", "timed out after N s". Npgsql's messages never hold the password; the worker scrubs secrets anyway.
    /// </summary>
    internal static SyncFailedException Failure(Exception ex, PostgresTarget target, bool connecting)
    {
        var server = ExceptionChain.Find<PostgresException>(ex);
        var message = server?.SqlState switch
        {
            PostgresErrorCodes.InvalidPassword => WrongPassword(target),

            // Redshift answers a wrong password with this older, general code; PostgreSQL uses it for pg_hba.conf refusals.
            PostgresErrorCodes.InvalidAuthorizationSpecification when server.MessageText.StartsWith("password authentication failed", StringComparison.Ordinal)
                => WrongPassword(target),
            PostgresErrorCodes.InvalidAuthorizationSpecification
                => $"authentication failed for user \"{target.User}\" at {target.Endpoint}: {server.MessageText}",
            PostgresErrorCodes.InvalidCatalogName
                => $"database \"{target.Database}\" does not exist at {target.Endpoint}",
            PostgresErrorCodes.QueryCanceled
                => $"timed out after {target.CommandTimeoutSeconds} s reading the catalogue at {target.Endpoint} (command_timeout_seconds): {server.MessageText}",
            PostgresErrorCodes.InsufficientPrivilege
                => $"permission denied reading the catalogue at {target.Endpoint}: {server.MessageText}",
            not null => $"{target.Flavor.Product} at {target.Endpoint} answered {server.SqlState}: {server.MessageText}",
            null => null,
        };
        if (message is null && ExceptionChain.Find<TimeoutException>(ex) is not null)
        {
            message = connecting
                ? $"could not connect to {target.Endpoint}: no answer within {target.ConnectTimeoutSeconds} s (connect_timeout_seconds)"
                : $"timed out after {target.CommandTimeoutSeconds} s reading the catalogue at {target.Endpoint} (command_timeout_seconds)";
        }

        if (message is null && ExceptionChain.Find<SocketException>(ex) is { } socket)
        {
            message = $"could not connect to {target.Endpoint}: {socket.Message}";
        }

        if (message is null && ex is ArgumentException)
        {
            message = PostgresTarget.NotAConnectionString(target.Flavor);
        }

        message ??= connecting
            ? $"could not connect to {target.Endpoint}: {ex.GetBaseException().Message}"
            : $"reading the catalogue at {target.Endpoint} failed: {ex.GetBaseException().Message}";
        return new SyncFailedException(message, ex);
    }

    private static string WrongPassword(PostgresTarget target)
        => $"authentication failed for user \"{target.User}\" at {target.Endpoint}: wrong password, or no such user";

    private static partial class Log
    {
        [LoggerMessage(60, LogLevel.Information, "Sync {SyncId}: reading the {Product} catalogue of {Endpoint}, database {Database}, as {User}")]
        public static partial void Connecting(ILogger logger, Guid syncId, string product, string endpoint, string database, string user);

        [LoggerMessage(61, LogLevel.Information, "Sync {SyncId}: read {Schemas} schemas, {Tables} tables, {Columns} columns")]
        public static partial void Read(ILogger logger, Guid syncId, int schemas, int tables, int columns);
    }
}

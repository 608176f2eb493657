using System.Data;
using System.Net;
using System.Net.Sockets;
using Dot.Api.Catalog;
using Dot.Api.Sync;
using Npgsql;

namespace Dot.Api.Connectors;

/// <summary>
/// <c>postgres</c>: reads the catalogue of a PostgreSQL database from pg_catalog: non-system schemas, their tables,
/// views, materialized views and foreign tables (not the partitions of a partitioned table), their columns (type as
/// <c>format_type</c> prints it, nullability, attnum) and the comments on each. Three queries in one read-only
/// repeatable-read transaction, so they see one state of the database.
/// </summary>
internal sealed partial class PostgresConnector(ConnectorNetwork network, ILogger<PostgresConnector> logger) : ISyncConnector
{
    public string Type => "postgres";

    /// <summary>Schemas that belong to PostgreSQL itself (and each session's temporary schemas).</summary>
    private const string UserSchemas = """
        n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
        """;

    private const string RelationKinds = "c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition";

    private const string SchemasSql = $"""
        SELECT current_database(), n.nspname, obj_description(n.oid, 'pg_namespace')
        FROM pg_catalog.pg_namespace n
        WHERE {UserSchemas}
        """;

    private const string TablesSql = $"""
        SELECT n.nspname, c.relname, c.relkind::text, obj_description(c.oid, 'pg_class')
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE {RelationKinds} AND {UserSchemas}
        """;

    private const string ColumnsSql = $"""
        SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
               a.attnum, col_description(c.oid, a.attnum)
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attnum > 0 AND NOT a.attisdropped AND {RelationKinds} AND {UserSchemas}
        """;

    public async Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
    {
        var target = PostgresTarget.From(job);
        Log.Connecting(logger, job.SyncId, job.Secrets.Scrub(target.Endpoint), job.Secrets.Scrub(target.Database ?? "(default)"),
            job.Secrets.Scrub(target.User ?? "(none)"));
        await using var connection = await OpenAsync(target, ct);

        var catalog = new CatalogBuilder();
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
            {
                await readOnly.ExecuteNonQueryAsync(ct);
            }

            string? database = null;
            await ReadAsync(connection, transaction, target, SchemasSql, r =>
            {
                database = r.GetString(0);
                catalog.AddSchema(database, r.GetString(1), Text(r, 2));
            }, ct);

            var columns = new Dictionary<(string Schema, string Table), List<CatalogColumn>>();
            await ReadAsync(connection, transaction, target, ColumnsSql, r =>
            {
                var key = (r.GetString(0), r.GetString(1));
                if (!columns.TryGetValue(key, out var list))
                {
                    columns[key] = list = [];
                }

                list.Add(new CatalogColumn(r.GetString(2), r.GetString(3), r.GetBoolean(4), r.GetInt16(5), Text(r, 6)));
            }, ct);

            await ReadAsync(connection, transaction, target, TablesSql, r =>
            {
                var key = (r.GetString(0), r.GetString(1));
                catalog.AddTable(database, key.Item1, key.Item2, Kind(r.GetString(2)), Text(r, 3), columns.GetValueOrDefault(key) ?? []);
            }, ct);

            await transaction.CommitAsync(ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Failure(ex, target, connecting: false);
        }

        var snapshot = catalog.Build();
        Log.Read(logger, job.SyncId, snapshot.Schemas.Count, snapshot.TablesCount, snapshot.ColumnsCount);
        return SyncOutcome.Of(snapshot);
    }

    /// <summary>
    /// Resolves each host here and checks every address (<see cref="ConnectorNetwork"/>), then opens a connection to a
    /// checked address, the next one when it does not answer: Npgsql never resolves a name itself, so a name that
    /// resolves elsewhere at connect time (DNS rebinding) gains nothing. TLS still verifies the host name: the
    /// handshake's target host (SNI and certificate check, verify-full included) is the name, not the address.
    /// </summary>
    private async Task<NpgsqlConnection> OpenAsync(PostgresTarget target, CancellationToken ct)
    {
        // Npgsql's own connect timeout, and ours a little later in case a step of the handshake does not honour it.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(target.ConnectTimeoutSeconds + 2));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var candidates = new List<(string Host, string? Name, int Port)>();
        try
        {
            foreach (var (host, port) in target.Hosts())
            {
                if (host.StartsWith('/') || host.StartsWith('@'))
                {
                    // A Unix socket: on this machine, never a network address; it is not a host AllowedHosts can list.
                    if (network.HasAllowList)
                    {
                        throw new ConnectorTargetRefusedException($"the host {host} is a Unix socket, not a host in {ConnectorOptions.Section}:AllowedHosts");
                    }

                    candidates.Add((host, null, port));
                    continue;
                }

                var name = IPAddress.TryParse(host.Trim('[', ']'), out _) ? null : host;
                foreach (var address in await network.ResolveAsync(host, linked.Token))
                {
                    candidates.Add((address.ToString(), name, port));
                }
            }
        }
        catch (ConnectorTargetRefusedException ex)
        {
            throw new SyncFailedException($"refused to connect to {target.Endpoint}: {ex.Message}");
        }
        catch (SocketException ex)
        {
            throw new SyncFailedException($"could not connect to {target.Endpoint}: {ex.Message}", ex);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new SyncFailedException($"could not connect to {target.Endpoint}: the host name did not resolve within {target.ConnectTimeoutSeconds} s");
        }

        if (candidates.Count == 0)
        {
            throw new SyncFailedException("the postgres connection has no host: set the host setting (or a connection_string secret).");
        }

        for (var i = 0; ; i++)
        {
            var (host, name, port) = candidates[i];
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(target.ConnectionString) { Host = host, Port = port }.ConnectionString);
            if (name is not null)
            {
                connection.SslClientAuthenticationOptionsCallback = tls => tls.TargetHost = name;
            }

            try
            {
                await OpenAsync(connection, target, deadline, linked.Token, ct);
                return connection;
            }
            catch (SyncFailedException ex) when (i + 1 < candidates.Count && ExceptionChain.Find<SocketException>(ex) is not null)
            {
                // That address does not answer: the next one of the same name (an IPv6 and an IPv4 address), or the next host.
                await connection.DisposeAsync();
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }
    }

    private static async Task OpenAsync(NpgsqlConnection connection, PostgresTarget target, CancellationTokenSource deadline,
        CancellationToken linked, CancellationToken ct)
    {
        try
        {
            await connection.OpenAsync(linked);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new SyncFailedException($"could not connect to {target.Endpoint}: no answer within {target.ConnectTimeoutSeconds} s");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or SocketException or ArgumentException)
        {
            throw Failure(ex, target, connecting: true);
        }
    }

    private static async Task ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PostgresTarget target, string sql,
        Action<NpgsqlDataReader> row, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = target.CommandTimeoutSeconds };
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            row(reader);
        }
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static string Kind(string relkind) => relkind switch
    {
        "v" => CatalogKinds.View,
        "m" => CatalogKinds.MaterializedView,
        "f" => CatalogKinds.ForeignTable,
        _ => CatalogKinds.Table, // r: ordinary, p: partitioned
    };

    /// <summary>
    /// What went wrong, in words an operator can act on: "authentication failed for user …", "could not connect to
    /// host:port: …", "timed out after N s". Npgsql's messages never hold the password; the worker scrubs secrets anyway.
    /// </summary>
    internal static SyncFailedException Failure(Exception ex, PostgresTarget target, bool connecting)
    {
        var postgres = ExceptionChain.Find<PostgresException>(ex);
        var message = postgres?.SqlState switch
        {
            PostgresErrorCodes.InvalidPassword
                => $"authentication failed for user \"{target.User}\" at {target.Endpoint}: wrong password, or no such user",
            PostgresErrorCodes.InvalidAuthorizationSpecification
                => $"authentication failed for user \"{target.User}\" at {target.Endpoint}: {postgres.MessageText}",
            PostgresErrorCodes.InvalidCatalogName
                => $"database \"{target.Database}\" does not exist at {target.Endpoint}",
            PostgresErrorCodes.QueryCanceled
                => $"timed out after {target.CommandTimeoutSeconds} s reading the catalogue at {target.Endpoint} (command_timeout_seconds): {postgres.MessageText}",
            PostgresErrorCodes.InsufficientPrivilege
                => $"permission denied reading the catalogue at {target.Endpoint}: {postgres.MessageText}",
            not null => $"PostgreSQL at {target.Endpoint} answered {postgres.SqlState}: {postgres.MessageText}",
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
            message = "the connection_string secret is not a valid PostgreSQL connection string (such as Host=db;Username=dot;Database=analytics)";
        }

        message ??= connecting
            ? $"could not connect to {target.Endpoint}: {ex.GetBaseException().Message}"
            : $"reading the catalogue at {target.Endpoint} failed: {ex.GetBaseException().Message}";
        return new SyncFailedException(message, ex);
    }

    private static partial class Log
    {
        [LoggerMessage(60, LogLevel.Information, "Sync {SyncId}: reading the PostgreSQL catalogue of {Endpoint}, database {Database}, as {User}")]
        public static partial void Connecting(ILogger logger, Guid syncId, string endpoint, string database, string user);

        [LoggerMessage(61, LogLevel.Information, "Sync {SyncId}: read {Schemas} schemas, {Tables} tables, {Columns} columns")]
        public static partial void Read(ILogger logger, Guid syncId, int schemas, int tables, int columns);
    }
}

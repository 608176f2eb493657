using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Data.SqlClient;
using Microsoft.Extensions.Logging;

namespace Dot.Api.Connectors;

/// <summary>
/// <c>mssql</c>: reads a SQL Server database's catalogue through Microsoft.Data.SqlClient, in one batch of three
/// queries: <c>sys.schemas</c> (not <c>sys</c>, <c>INFORMATION_SCHEMA</c>, nor the empty <c>guest</c> and fixed-role
/// schemas), <c>sys.tables</c> and <c>sys.views</c> (not Microsoft's own), <c>sys.columns</c> with the type as SQL
/// Server writes it (<see cref="MssqlTypes"/>), and the <c>MS_Description</c> extended property of each. External
/// (PolyBase) tables are <c>foreign_table</c>; a view with a clustered index (an indexed view) is
/// <c>materialized_view</c>. SQL Server 2016 or later (<c>sys.tables.is_external</c>).
/// </summary>
internal sealed partial class MssqlConnector(ConnectorNetwork network, ILogger<MssqlConnector> logger) : ISyncConnector
{
    public string Type => "mssql";

    /// <summary>The error numbers the failures are told by (learn.microsoft.com/sql/relational-databases/errors-events).</summary>
    private const int LoginFailed = 18456;
    private const int CannotOpenDatabase = 4060;
    private const int PermissionDenied = 229;
    private const int Timeout = -2;

    private const string Description = "CAST(ep.value AS nvarchar(max))";

    /// <summary>
    /// One batch, three result sets: schemas, tables and views, columns. sys.tables lists external tables too
    /// (<c>is_external</c>); in sys.objects their type is <c>ET</c>, beside <c>U</c> (user table) and <c>V</c> (view).
    /// </summary>
    internal const string CatalogSql = $"""
        SELECT DB_NAME(), s.name, {Description}
        FROM sys.schemas s
        LEFT JOIN sys.extended_properties ep ON ep.class = 3 AND ep.major_id = s.schema_id AND ep.minor_id = 0 AND ep.name = N'MS_Description'
        WHERE s.name NOT IN (N'sys', N'INFORMATION_SCHEMA')
          AND ((s.schema_id < 16384 AND s.name <> N'guest')
               OR EXISTS (SELECT 1 FROM sys.objects o WHERE o.schema_id = s.schema_id AND o.type IN ('U', 'V', 'ET')));

        SELECT s.name, t.name, CASE WHEN t.is_external = 1 THEN '{CatalogKinds.ForeignTable}' ELSE '{CatalogKinds.Table}' END, {Description}
        FROM sys.tables t
        JOIN sys.schemas s ON s.schema_id = t.schema_id
        LEFT JOIN sys.extended_properties ep ON ep.class = 1 AND ep.major_id = t.object_id AND ep.minor_id = 0 AND ep.name = N'MS_Description'
        WHERE t.is_ms_shipped = 0
        UNION ALL
        SELECT s.name, v.name,
               CASE WHEN EXISTS (SELECT 1 FROM sys.indexes i WHERE i.object_id = v.object_id AND i.index_id = 1)
                    THEN '{CatalogKinds.MaterializedView}' ELSE '{CatalogKinds.View}' END, {Description}
        FROM sys.views v
        JOIN sys.schemas s ON s.schema_id = v.schema_id
        LEFT JOIN sys.extended_properties ep ON ep.class = 1 AND ep.major_id = v.object_id AND ep.minor_id = 0 AND ep.name = N'MS_Description'
        WHERE v.is_ms_shipped = 0;

        SELECT s.name, o.name, c.name, ty.name, SCHEMA_NAME(ty.schema_id), ty.is_user_defined,
               CAST(c.max_length AS int), CAST(c.precision AS int), CAST(c.scale AS int), c.is_nullable, c.column_id, {Description}
        FROM sys.columns c
        JOIN sys.objects o ON o.object_id = c.object_id
        JOIN sys.schemas s ON s.schema_id = o.schema_id
        JOIN sys.types ty ON ty.user_type_id = c.user_type_id
        LEFT JOIN sys.extended_properties ep ON ep.class = 1 AND ep.major_id = c.object_id AND ep.minor_id = c.column_id AND ep.name = N'MS_Description'
        WHERE o.type IN ('U', 'V', 'ET') AND o.is_ms_shipped = 0;
        """;

    public async Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
    {
        var target = MssqlTarget.From(job);
        Log.Connecting(logger, job.SyncId, job.Secrets.Scrub(target.Endpoint), job.Secrets.Scrub(target.Database ?? "(the login's default)"),
            job.Secrets.Scrub(target.User));
        await using var connection = await OpenAsync(target, ct);

        var catalog = new CatalogBuilder();
        try
        {
            await using var command = new SqlCommand(CatalogSql, connection) { CommandTimeout = target.CommandTimeoutSeconds };
            await using var reader = await command.ExecuteReaderAsync(ct);
            string? database = null;
            while (await reader.ReadAsync(ct))
            {
                database = reader.GetString(0);
                catalog.AddSchema(database, reader.GetString(1), Text(reader, 2));
            }

            var tables = new List<(string Schema, string Name, string Kind, string? Description)>();
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                tables.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), Text(reader, 3)));
            }

            var columns = new Dictionary<(string Schema, string Table), List<CatalogColumn>>();
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var key = (reader.GetString(0), reader.GetString(1));
                if (!columns.TryGetValue(key, out var list))
                {
                    columns[key] = list = [];
                }

                var type = MssqlTypes.Format(reader.GetString(3), Text(reader, 4), reader.GetBoolean(5), reader.GetInt32(6), reader.GetInt32(7),
                    reader.GetInt32(8));
                list.Add(new CatalogColumn(reader.GetString(2), type, reader.GetBoolean(9), reader.GetInt32(10), Text(reader, 11)));
            }

            foreach (var (schema, name, kind, description) in tables)
            {
                catalog.AddTable(database, schema, name, kind, description, columns.GetValueOrDefault((schema, name)) ?? []);
            }
        }
        catch (SqlException ex)
        {
            throw Failure(ex, target, connecting: false);
        }

        var snapshot = catalog.Build();
        Log.Read(logger, job.SyncId, snapshot.Schemas.Count, snapshot.TablesCount, snapshot.ColumnsCount);
        return SyncOutcome.Of(snapshot);
    }

    /// <summary>
    /// Resolves the host here and checks every address (<see cref="ConnectorNetwork"/>); for each checked address in
    /// turn, a TCP connect first (so that a refused or silent port is reported as such: SqlClient's own report of it
    /// is "error: 35 - An internal exception was caught"), then SqlClient's connection to that same address, its
    /// certificate checked against the host name. SqlClient is never handed a name to resolve.
    /// </summary>
    private async Task<SqlConnection> OpenAsync(MssqlTarget target, CancellationToken ct)
    {
        using var deadline = new ConnectDeadline(target.ConnectTimeoutSeconds, ct);
        var addresses = await deadline.ResolveAsync(network, target.Host, target.Endpoint);
        for (var i = 0; ; i++)
        {
            try
            {
                await ProbeAsync(addresses[i], target, deadline);
            }
            catch (SocketException) when (i + 1 < addresses.Count)
            {
                continue; // that address does not answer: the next one of the name (an IPv6 and an IPv4 address)
            }
            catch (SocketException ex)
            {
                throw new SyncFailedException($"could not connect to {target.Endpoint}: {ex.Message}", ex);
            }

            if (InvariantGlobalization)
            {
                throw new SyncFailedException(InvariantGlobalizationRefused);
            }

            var connection = new SqlConnection(target.ConnectionString(addresses[i]));
            try
            {
                await connection.OpenAsync(deadline.Token);
                return connection;
            }
            catch (OperationCanceledException) when (deadline.Expired)
            {
                await connection.DisposeAsync();
                throw deadline.NoAnswer(target.Endpoint);
            }
            catch (SqlException ex)
            {
                await connection.DisposeAsync();
                throw Failure(ex, target, connecting: true);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>
    /// SqlClient refuses to open a connection in .NET's invariant globalization mode (NotSupportedException
    /// "Globalization Invariant Mode is not supported", dotnet/SqlClient#220 and #3742): it maps SQL Server collations to
    /// code pages through the culture data ICU provides.
    /// </summary>
    internal static bool InvariantGlobalization
        => AppContext.TryGetSwitch("System.Globalization.Invariant", out var invariant) ? invariant
            : Environment.GetEnvironmentVariable("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT") is "1" or "true";

    internal const string InvariantGlobalizationRefused = "the mssql connector cannot run on this server: it runs in .NET's invariant "
        + "globalization mode, which Microsoft.Data.SqlClient does not support; run the server with InvariantGlobalization false "
        + "(System.Globalization.Invariant in Dot.Api.runtimeconfig.json) and ICU installed (Debian: libicu72)";

    /// <summary>Whether the address takes a TCP connection on the port; closes it at once.</summary>
    private static async Task ProbeAsync(IPAddress address, MssqlTarget target, ConnectDeadline deadline)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, target.Port), deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.Expired)
        {
            throw deadline.NoAnswer(target.Endpoint);
        }
    }

    private static string? Text(SqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>
    /// What went wrong, by SQL Server's error number: the same words as the postgres connector's ("authentication
    /// failed for user …", "could not connect to host:port: …", "timed out after N s"). SqlClient's messages never hold
    /// the password; the worker scrubs secrets anyway.
    /// </summary>
    internal static SyncFailedException Failure(SqlException ex, MssqlTarget target, bool connecting)
    {
        var numbers = ex.Errors.Cast<SqlError>().Select(e => e.Number).ToList();
        string message;
        if (numbers.Contains(CannotOpenDatabase))
        {
            // Sent before 18456 when the login succeeded but the database cannot be opened.
            message = $"cannot open database \"{target.Database}\" at {target.Endpoint}: it does not exist, or the login \"{target.User}\" has no user in it";
        }
        else if (numbers.Contains(LoginFailed))
        {
            message = $"authentication failed for user \"{target.User}\" at {target.Endpoint}: wrong password, or no such login";
        }
        else if (numbers.Contains(PermissionDenied))
        {
            message = $"permission denied reading the catalogue at {target.Endpoint}: {ex.Message}";
        }
        else if (numbers.Contains(Timeout))
        {
            message = connecting
                ? $"could not connect to {target.Endpoint}: no answer within {target.ConnectTimeoutSeconds} s (connect_timeout_seconds)"
                : $"timed out after {target.CommandTimeoutSeconds} s reading the catalogue at {target.Endpoint} (command_timeout_seconds)";
        }
        else if (ExceptionChain.Find<AuthenticationException>(ex) is { } tls)
        {
            message = $"could not connect to {target.Endpoint}: the TLS handshake failed ({tls.Message}); check the encrypt and "
                + "trust_server_certificate settings and the server's certificate";
        }
        else if (connecting)
        {
            message = $"could not connect to {target.Endpoint}: {ex.Message}";
        }
        else
        {
            message = $"SQL Server at {target.Endpoint} answered error {ex.Number}: {ex.Message}";
        }

        return new SyncFailedException(message, ex);
    }

    private static partial class Log
    {
        [LoggerMessage(64, LogLevel.Information, "Sync {SyncId}: reading the SQL Server catalogue of {Endpoint}, database {Database}, as {User}")]
        public static partial void Connecting(ILogger logger, Guid syncId, string endpoint, string database, string user);

        [LoggerMessage(65, LogLevel.Information, "Sync {SyncId}: read {Schemas} schemas, {Tables} tables, {Columns} columns")]
        public static partial void Read(ILogger logger, Guid syncId, int schemas, int tables, int columns);
    }
}

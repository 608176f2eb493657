using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dot.Api.Connectors.Tests.Infrastructure;
using Microsoft.Data.SqlClient;

namespace Dot.Api.Connectors.Tests;

/// <summary>
/// The mssql connector up to the connection: no SQL Server runs here (nor can one be installed from the registries this
/// machine reaches), so the catalogue queries were never run against a server. Tested: the settings and the
/// connection string SqlClient gets, the type formatting on the cases sys.columns documents, and, driving the connector,
/// the failures before a login: a closed port, a port that accepts and never answers (with encrypt mandatory and strict),
/// a metadata address, cancellation; none shows the password.
/// </summary>
[Trait("Store", "any")]
public sealed class MssqlConnectorTests
{
    private const string Password = "Sql-Secret-7d41e9";

    private static SyncJob Job(object settings, string? password = Password)
        => ConnectorHost.Job("mssql", settings, password is null ? null : new { password });

    [Fact]
    public void SettingsMakeAConnectionStringForTheCheckedAddressThatChecksTheCertificateAgainstTheName()
    {
        var target = MssqlTarget.From(Job(new { host = "sql.internal", database = "Sales", user = "dot_reader" }));
        var built = new SqlConnectionStringBuilder(target.ConnectionString(IPAddress.Parse("10.1.2.3")));

        Assert.Equal("tcp:10.1.2.3,1433", built.DataSource);
        Assert.Equal("sql.internal", built.HostNameInCertificate);
        Assert.Equal(("Sales", "dot_reader", Password), (built.InitialCatalog, built.UserID, built.Password));
        Assert.Equal(SqlConnectionEncryptOption.Mandatory, built.Encrypt);
        Assert.False(built.TrustServerCertificate);
        Assert.Equal((15, 30), (built.ConnectTimeout, built.CommandTimeout));
        Assert.False(built.Pooling);
        Assert.Equal(0, built.ConnectRetryCount);
        Assert.Equal("sql.internal:1433", target.Endpoint);
        Assert.DoesNotContain(Password, target.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EncryptTrustPortTimeoutsAndIPv6AreTakenAsGiven()
    {
        var target = MssqlTarget.From(Job(new
        {
            host = "[fd12::5]", port = "14330", user = "dot", encrypt = "strict", trust_server_certificate = true,
            connect_timeout_seconds = 5, command_timeout_seconds = 120,
        }));
        var built = new SqlConnectionStringBuilder(target.ConnectionString(IPAddress.Parse("fd12::5")));

        Assert.Equal("tcp:[fd12::5],14330", built.DataSource);
        Assert.Equal(string.Empty, built.HostNameInCertificate); // an address: checked against itself
        Assert.Equal(SqlConnectionEncryptOption.Strict, built.Encrypt);
        Assert.True(built.TrustServerCertificate);
        Assert.Equal((5, 120), (built.ConnectTimeout, built.CommandTimeout));
        Assert.Equal(string.Empty, built.InitialCatalog);
        Assert.Equal("[fd12::5]:14330", target.Endpoint);
    }

    [Fact]
    public void ValuesThatLookLikeConnectionStringPartsStayValues()
    {
        var target = MssqlTarget.From(Job(new { host = "sql.internal", database = "Sales;Encrypt=False", user = "dot;Trust Server Certificate=true" },
            "pw;Encrypt=False"));
        var built = new SqlConnectionStringBuilder(target.ConnectionString(IPAddress.Loopback));

        Assert.Equal(("Sales;Encrypt=False", "dot;Trust Server Certificate=true", "pw;Encrypt=False"), (built.InitialCatalog, built.UserID, built.Password));
        Assert.Equal(SqlConnectionEncryptOption.Mandatory, built.Encrypt);
        Assert.False(built.TrustServerCertificate);
    }

    [Theory]
    [InlineData("""{"user": "dot"}""", "the mssql connection has no host: set the host setting.")]
    [InlineData("""{"host": "sql.internal"}""", "the mssql connection has no user: set the user setting.")]
    [InlineData("""{"host": "sql.internal\\SALES", "user": "dot"}""", "the mssql setting host must be a host name or an IP address; for a named instance (host\\instance) give its TCP port in the port setting instead (this connector does not ask SQL Server Browser).")]
    [InlineData("""{"host": "sql.internal,1444", "user": "dot"}""", "the mssql setting host must be a host name or an IP address; for a named instance (host\\instance) give its TCP port in the port setting instead (this connector does not ask SQL Server Browser).")]
    [InlineData("""{"host": "sql.internal", "user": "dot", "port": 0}""", "the mssql setting port must be a whole number from 1 to 65535.")]
    [InlineData("""{"host": "sql.internal", "user": "dot", "encrypt": "yes"}""", "the mssql setting encrypt must be one of mandatory, optional, strict.")]
    [InlineData("""{"host": "sql.internal", "user": "dot", "trust_server_certificate": "maybe"}""", "the mssql setting trust_server_certificate must be true or false.")]
    [InlineData("""{"host": "sql.internal", "user": "dot", "command_timeout_seconds": 0}""", "the mssql setting command_timeout_seconds must be a whole number from 1 to 3600.")]
    public void SettingsThatCannotWorkAreNamed(string settings, string error)
    {
        var ex = Assert.Throws<SyncFailedException>(() => MssqlTarget.From(Job(JsonDocument.Parse(settings).RootElement)));

        Assert.Equal(error, ex.Message);
    }

    [Fact]
    public void NoPasswordIsNamed()
    {
        var ex = Assert.Throws<SyncFailedException>(() => MssqlTarget.From(Job(new { host = "sql.internal", user = "dot" }, password: null)));

        Assert.Equal("the mssql connection has no password: set the secret password (SQL Server authentication).", ex.Message);
    }

    /// <summary>sys.columns.max_length is in bytes (-1: max); sys.columns documents precision and scale per type.</summary>
    [Theory]
    [InlineData("nvarchar", 80, 0, 0, "nvarchar(40)")]
    [InlineData("nvarchar", -1, 0, 0, "nvarchar(max)")]
    [InlineData("nchar", 20, 0, 0, "nchar(10)")]
    [InlineData("varchar", 100, 0, 0, "varchar(100)")]
    [InlineData("varchar", -1, 0, 0, "varchar(max)")]
    [InlineData("char", 3, 0, 0, "char(3)")]
    [InlineData("varbinary", -1, 0, 0, "varbinary(max)")]
    [InlineData("binary", 16, 0, 0, "binary(16)")]
    [InlineData("decimal", 9, 12, 2, "decimal(12,2)")]
    [InlineData("numeric", 9, 18, 0, "numeric(18,0)")]
    [InlineData("datetime2", 8, 27, 7, "datetime2(7)")]
    [InlineData("datetime2", 6, 19, 0, "datetime2(0)")]
    [InlineData("time", 4, 12, 3, "time(3)")]
    [InlineData("datetimeoffset", 10, 34, 7, "datetimeoffset(7)")]
    [InlineData("int", 4, 10, 0, "int")]
    [InlineData("bigint", 8, 19, 0, "bigint")]
    [InlineData("float", 8, 53, 0, "float")]
    [InlineData("datetime", 8, 23, 3, "datetime")]
    [InlineData("uniqueidentifier", 16, 0, 0, "uniqueidentifier")]
    [InlineData("xml", -1, 0, 0, "xml")]
    [InlineData("sysname", 256, 0, 0, "sysname")]
    [InlineData("geography", -1, 0, 0, "geography")]
    [InlineData("timestamp", 8, 0, 0, "timestamp")]
    public void SystemTypesReadAsSqlServerWritesThem(string name, int maxLength, int precision, int scale, string expected)
        => Assert.Equal(expected, MssqlTypes.Format(name, "sys", userDefined: false, maxLength, precision, scale));

    /// <summary>
    /// The catalogue batch is valid T-SQL for SQL Server 2016 (ScriptDom, Microsoft's own parser, at compatibility
    /// level 130) and is three SELECTs. This checks syntax only: no server checked the column names.
    /// </summary>
    [Fact]
    public void CatalogBatchParsesAsThreeSelectsForSqlServer2016()
    {
        var parser = new Microsoft.SqlServer.TransactSql.ScriptDom.TSql130Parser(initialQuotedIdentifiers: true);
        using var reader = new StringReader(MssqlConnector.CatalogSql);
        var script = (Microsoft.SqlServer.TransactSql.ScriptDom.TSqlScript)parser.Parse(reader, out var errors);

        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => $"line {e.Line}: {e.Message}")));
        var statements = script.Batches.SelectMany(b => b.Statements).ToList();
        Assert.Equal(3, statements.Count);
        Assert.All(statements, s => Assert.IsType<Microsoft.SqlServer.TransactSql.ScriptDom.SelectStatement>(s));
    }

    [Fact]
    public void UserDefinedTypesReadByTheirQualifiedName()
        => Assert.Equal("sales.phone_number", MssqlTypes.Format("phone_number", "sales", userDefined: true, 40, 0, 0));

    [Fact]
    public async Task ClosedPortFailsAtOnceSayingRefusedAndShowsNoPassword()
    {
        using var host = new ConnectorHost();
        var port = RedshiftConnectorTests.ClosedPort();

        var clock = Stopwatch.StartNew();
        var error = await host.FailAsync("mssql", new { host = "127.0.0.1", port, database = "Sales", user = "dot", connect_timeout_seconds = 3 },
            new { password = Password });

        Assert.Equal($"could not connect to 127.0.0.1:{port}: Connection refused", error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        host.AssertNoSecret(error, Password);
    }

    /// <summary>
    /// A port whose accept queue is full, so that the TCP connect itself gets no answer: the connector's deadline
    /// (connect_timeout_seconds) ends it.
    /// </summary>
    [Fact]
    public async Task UnansweredConnectFailsAfterTheConnectTimeout()
    {
        using var full = new FullBacklogListener();
        using var host = new ConnectorHost();

        var clock = Stopwatch.StartNew();
        var error = await host.FailAsync("mssql", new { host = "127.0.0.1", port = full.Port, user = "dot", connect_timeout_seconds = 1 },
            new { password = Password });

        Assert.Equal($"could not connect to 127.0.0.1:{full.Port}: no answer within 1 s (connect_timeout_seconds)", error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        host.AssertNoSecret(error, Password);
    }

    /// <summary>
    /// A port that accepts and never sends a byte: SqlClient waits for the pre-login answer (with strict encryption, for
    /// the TLS handshake, which does not honour its own timeout: the connector's deadline bounds it). In a process in
    /// .NET's invariant globalization mode (this test suite, and the server as it ships) SqlClient cannot open a
    /// connection at all, and the connector says so instead.
    /// </summary>
    [Theory]
    [InlineData("mandatory")]
    [InlineData("strict")]
    public async Task SilentServerFailsAfterTheConnectTimeoutOrForInvariantGlobalization(string encrypt)
    {
        using var silent = new SilentListener();
        using var host = new ConnectorHost();

        var clock = Stopwatch.StartNew();
        var error = await host.FailAsync("mssql",
            new { host = "127.0.0.1", port = silent.Port, database = "Sales", user = "dot", encrypt, connect_timeout_seconds = 1 },
            new { password = Password });

        Assert.Equal(MssqlConnector.InvariantGlobalization
            ? MssqlConnector.InvariantGlobalizationRefused
            : $"could not connect to 127.0.0.1:{silent.Port}: no answer within 1 s (connect_timeout_seconds)", error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        host.AssertNoSecret(error, Password);
    }

    [Fact]
    public async Task RunCancelledWhileConnectingStopsPromptly()
    {
        using var full = new FullBacklogListener();
        using var host = new ConnectorHost();
        var connector = host.Connector("mssql");
        var job = Job(new { host = "127.0.0.1", port = full.Port, user = "dot", connect_timeout_seconds = 60 });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connector.RunAsync(job, cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("169.254.169.254", "refused to connect to 169.254.169.254:1433: 169.254.169.254 is a cloud metadata address: connectors never connect there")]
    [InlineData("sql.internal", "refused to connect to sql.internal:1433: sql.internal (169.254.169.254) is a cloud metadata address: connectors never connect there")]
    public async Task MetadataAddressIsRefusedBeforeConnecting(string host, string error)
    {
        var dns = new FakeConnectorDns(new(StringComparer.Ordinal) { ["sql.internal"] = [IPAddress.Parse("169.254.169.254")] });
        using var connectors = new ConnectorHost(dns: dns);

        Assert.Equal(error, await connectors.FailAsync("mssql", new { host, user = "dot" }, new { password = Password }));
    }

    [Fact]
    public async Task HostOutsideAllowedHostsIsRefused()
    {
        using var host = new ConnectorHost(new Dictionary<string, string?> { ["Dot:Connectors:AllowedHosts:0"] = "sql.example.com" });

        var error = await host.FailAsync("mssql", new { host = "127.0.0.1", user = "dot" }, new { password = Password });

        Assert.Equal("refused to connect to 127.0.0.1:1433: 127.0.0.1 is not in Dot:Connectors:AllowedHosts: "
            + "connectors on this server reach only the hosts listed there", error);
    }

    /// <summary>
    /// A loopback port that listens with an accept queue of one, never accepts, and has the queue filled: Linux drops
    /// further SYNs, so a connect gets no answer.
    /// </summary>
    private sealed class FullBacklogListener : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _fillers = [];

        public FullBacklogListener()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(1);
            Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
            for (var i = 0; i < 3; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try
                {
                    filler.Connect(IPAddress.Loopback, Port);
                }
                catch (SocketException)
                {
                    // in progress (or dropped): either way it takes a place
                }

                _fillers.Add(filler);
            }
        }

        public int Port { get; }

        public void Dispose()
        {
            _fillers.ForEach(f => f.Dispose());
            _listener.Dispose();
        }
    }

    /// <summary>A loopback port that accepts connections and never sends a byte.</summary>
    private sealed class SilentListener : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<TcpClient> _accepted = [];
        private readonly CancellationTokenSource _stop = new();

        public SilentListener()
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                try
                {
                    while (!_stop.IsCancellationRequested)
                    {
                        var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                        lock (_accepted)
                        {
                            _accepted.Add(client);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
                catch (SocketException)
                {
                }
            });
        }

        public int Port { get; }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_accepted)
            {
                _accepted.ForEach(c => c.Dispose());
            }

            _stop.Dispose();
        }
    }
}

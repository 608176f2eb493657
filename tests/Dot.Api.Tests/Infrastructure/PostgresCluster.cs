using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// A throw-away PostgreSQL cluster for the connector tests: initdb into a temporary directory with a
/// password-authenticated superuser, started on a free loopback port (Unix socket in the same directory), stopped
/// with <c>pg_ctl stop -m immediate</c> and deleted at the end. PostgreSQL refuses to run as root, so under root
/// (as CI runs) initdb and pg_ctl run as the <c>postgres</c> OS user. Shared by the tests of the "postgres" collection;
/// each test works in a database of its own (<see cref="CreateDatabaseAsync"/>).
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    public const string Superuser = "dot_admin";
    public const string Host = "127.0.0.1";

    private string? _directory;
    private string? _bin;
    private bool _runAsPostgres;

    /// <summary>The superuser's password: random for each cluster.</summary>
    public string Password { get; } = "pg-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public int Port { get; private set; }

    /// <summary>Why there is no cluster (binaries or the postgres user missing, or it did not start); null when it runs.</summary>
    public string? Unavailable { get; private set; }

    /// <summary>
    /// Skips the calling test with the reason when there is no cluster, except on CI (<c>CI=true</c>), where a
    /// missing PostgreSQL is a failure: CI installs it (<c>.ci/run</c>), so its absence there is a broken set-up.
    /// </summary>
    public void Require()
    {
        if (Unavailable is null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"CI=true and no PostgreSQL for the connector tests: {Unavailable}");
        }

        Skip.If(true, $"PostgreSQL connector tests skipped: {Unavailable}");
    }

    public string ConnectionString(string database, string? password = null) => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = Port,
        Username = Superuser,
        Password = password ?? Password,
        Database = database,
        Pooling = false,
    }.ConnectionString;

    /// <summary>A new, empty database for one test.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    /// <summary>Runs <paramref name="sql"/> (one or more statements) in <paramref name="database"/> as the superuser.</summary>
    public async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task InitializeAsync()
    {
        try
        {
            Unavailable = await StartAsync();
        }
        catch (Exception ex)
        {
            Unavailable = $"the cluster did not start: {ex.Message}";
        }
    }

    private async Task<string?> StartAsync()
    {
        _bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        if (_bin is null)
        {
            return "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); install Debian's postgresql package";
        }

        _runAsPostgres = Environment.UserName == "root";
        if (_runAsPostgres && (await RunAsync("id", ["-u", "postgres"], asPostgres: false)).ExitCode != 0)
        {
            return "running as root, and there is no postgres OS user to run the server as (PostgreSQL refuses root)";
        }

        _directory = Path.Combine(Path.GetTempPath(), "dot-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_directory);
        var passwordFile = Path.Combine(_directory, "pwfile");
        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        if (_runAsPostgres)
        {
            await CheckAsync(RunAsync("chown", ["-R", "postgres:postgres", _directory], asPostgres: false), "chown");
        }

        var data = Path.Combine(_directory, "data");
        await CheckAsync(RunAsync(Path.Combine(_bin, "initdb"),
            ["-D", data, "-U", Superuser, $"--pwfile={passwordFile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"],
            asPostgres: _runAsPostgres), "initdb");
        File.Delete(passwordFile);

        Port = FreePort();
        await StartServerAsync();
        return null;
    }

    /// <summary>Starts the cluster's server again after <see cref="StopServerAsync"/>, on the same port, with its data.</summary>
    public Task StartServerAsync()
        => CheckAsync(RunAsync(Path.Combine(_bin!, "pg_ctl"),
            ["-D", Path.Combine(_directory!, "data"), "-l", Path.Combine(_directory!, "server.log"), "-w", "-t", "60",
             "-o", $"-p {Port} -k {_directory} -c listen_addresses={Host} -c fsync=off -c max_connections=300", "start"],
            asPostgres: _runAsPostgres), "pg_ctl start");

    /// <summary>
    /// Stops the server as an operator's restart does (<c>-m fast</c>: sessions are ended, the data kept), for tests
    /// of what clients do while the database is away. Use a cluster of the test's own, never the shared one.
    /// </summary>
    public Task StopServerAsync()
        => CheckAsync(RunAsync(Path.Combine(_bin!, "pg_ctl"),
            ["-D", Path.Combine(_directory!, "data"), "stop", "-m", "fast", "-w", "-t", "60"],
            asPostgres: _runAsPostgres), "pg_ctl stop");

    public async Task DisposeAsync()
    {
        if (_directory is null || _bin is null)
        {
            return;
        }

        var data = Path.Combine(_directory, "data");
        if (Directory.Exists(data))
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", data, "stop", "-m", "immediate", "-w", "-t", "30"], _runAsPostgres);
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task CheckAsync(Task<(int ExitCode, string Output)> run, string what)
    {
        var (exitCode, output) = await run;
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{what} exited {exitCode}: {output.Trim()}");
        }
    }

    /// <summary>
    /// Runs a program (as the postgres user through runuser when asked), its output gathered through events and never
    /// waited for to its end: the server that pg_ctl starts may keep inherited handles open.
    /// </summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] args, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{program} did not finish within 120 s");
        }

        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresTests : ICollectionFixture<PostgresCluster>
{
    public const string Name = "postgres";
}

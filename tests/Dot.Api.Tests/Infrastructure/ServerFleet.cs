using System.Net.Http.Json;
using Npgsql;
using Xunit.Abstractions;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// Several real server processes (<see cref="ServerProcess"/>) on one PostgreSQL database, as behind a load balancer:
/// each with its own <c>Dot:Sync:InstanceName</c> (<c>dot-1</c>, <c>dot-2</c>, …), all started at the same moment.
/// Disposing kills them and writes the tail of each one's output to the test's output.
/// </summary>
public sealed class ServerFleet : IAsyncDisposable
{
    private readonly string _directory;
    private readonly ITestOutputHelper _output;

    private ServerFleet(string directory, string connectionString, IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<RunningServer> servers, ITestOutputHelper output)
    {
        _directory = directory;
        ConnectionString = connectionString;
        Environment = environment;
        Servers = servers;
        _output = output;
    }

    public IReadOnlyList<RunningServer> Servers { get; }

    public RunningServer this[int index] => Servers[index];

    /// <summary>The store settings every instance (and the CLI) runs with.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public string ConnectionString { get; }

    /// <summary>The working directory the CLI and the servers run in (no database file is ever made there).</summary>
    private string DatabasePath => Path.Combine(_directory, "unused.db");

    public static string InstanceName(int index) => $"dot-{index + 1}";

    public static IReadOnlyDictionary<string, string> StoreEnvironment(string connectionString) => new Dictionary<string, string>
    {
        ["Dot__Database__Provider"] = "postgres",
        ["ConnectionStrings__Dot"] = connectionString,
    };

    /// <summary>Starts <paramref name="count"/> instances at once; <paramref name="settings"/> as <c>Dot__Section__Key</c> variables.</summary>
    public static async Task<ServerFleet> StartAsync(string connectionString, int count, ITestOutputHelper output,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var directory = Directory.CreateTempSubdirectory("dot-fleet-").FullName;
        var environment = new Dictionary<string, string>(StoreEnvironment(connectionString));
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        var starting = Enumerable.Range(0, count).Select(i => ServerProcess.StartAsync(Path.Combine(directory, "unused.db"),
            new Dictionary<string, string>(environment) { ["Dot__Sync__InstanceName"] = InstanceName(i) })).ToList();
        try
        {
            return new ServerFleet(directory, connectionString, environment, await Task.WhenAll(starting), output);
        }
        catch
        {
            foreach (var start in starting.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Runs a CLI command against the fleet's database; asserts it succeeded and returns its stdout, trimmed.</summary>
    public async Task<string> CliAsync(params string[] args)
    {
        var result = await ServerProcess.RunAsync(DatabasePath, null, Environment, args);
        Assert.True(result.ExitCode == 0, $"dot-api {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}");
        return result.Stdout.Trim();
    }

    /// <summary>An admin made with the CLI, as a first set-up does; their token.</summary>
    public async Task<string> CreateAdminAsync(string email = "admin@example.com")
    {
        await CliAsync("users", "add", "--email", email, "--role", "admin");
        return await CliAsync("tokens", "create", "--email", email, "--name", "fleet-admin");
    }

    /// <summary>A user made through the HTTP API with an admin's client (of whichever instance); the user's id.</summary>
    public static async Task<Guid> CreateUserAsync(HttpClient admin, string email, string role)
    {
        var response = await admin.PostAsJsonAsync("/api/users", new { email, name = email, role });
        Assert.True(response.IsSuccessStatusCode, $"creating {email}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.JsonAsync()).GetProperty("id").GetGuid();
    }

    /// <summary>A token for <paramref name="userId"/> made through the HTTP API; its id and plaintext.</summary>
    public static async Task<(Guid Id, string Token)> CreateTokenAsync(HttpClient admin, Guid userId, string name)
    {
        var response = await admin.PostAsJsonAsync("/api/tokens", new { name, user_id = userId });
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"creating token {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var body = await response.JsonAsync();
        return (body.GetProperty("id").GetGuid(), body.GetProperty("token").GetString()!);
    }

    /// <summary>One value read straight from the database (bypassing every instance).</summary>
    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Servers.Count; i++)
        {
            await Servers[i].DisposeAsync();
            var lines = Servers[i].Output.Split('\n');
            _output.WriteLine($"--- {InstanceName(i)} (last lines of {lines.Length}) ---");
            _output.WriteLine(string.Join('\n', lines.TakeLast(25)));
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

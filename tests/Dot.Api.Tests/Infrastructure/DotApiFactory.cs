using System.Net.Http.Json;
using Dot.Api.Access;
using Dot.Api.Data;
using Dot.Api.Data.Postgres;
using Dot.Api.Data.Sqlite;
using Dot.Api.Infrastructure;
using Dot.Api.Tokens;
using Dot.Api.Users;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// The real server in memory, one per test, each with its own SQLite file, a fake clock and every
/// log line captured. Users and tokens are minted by the product's own services.
/// </summary>
public sealed class DotApiFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings = new(StringComparer.Ordinal);
    private readonly List<Action<IServiceCollection>> _services = [];

    public DotApiFactory()
        : this(TestStore.IsPostgres)
    {
    }

    /// <param name="postgres">On a database of its own in the shared PostgreSQL cluster (<see cref="SharedPostgres"/>),
    /// whatever <c>DOT_TEST_STORE</c> says; otherwise on an SQLite file in a directory of its own.</param>
    public DotApiFactory(bool postgres)
    {
        Directory = Path.Combine(Path.GetTempPath(), "dot-api-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        DatabasePath = Path.Combine(Directory, "dot.db");
        IsPostgres = postgres;
        if (postgres)
        {
            // Off the test's synchronization context: the cluster and the copy are plain I/O.
            PostgresDatabase = Task.Run(SharedPostgres.CreateDatabaseAsync).GetAwaiter().GetResult();
            ConnectionString = Task.Run(() => SharedPostgres.ConnectionStringAsync(PostgresDatabase)).GetAwaiter().GetResult();
            _settings["Dot:Database:Provider"] = "postgres";
        }
        else
        {
            ConnectionString = $"Data Source={DatabasePath}";
        }

        _settings["ConnectionStrings:Dot"] = ConnectionString;
    }

    public string Directory { get; }

    /// <summary>The SQLite file (on the SQLite store; on PostgreSQL nothing is written there).</summary>
    public string DatabasePath { get; }

    public bool IsPostgres { get; }

    /// <summary>The database's name in the shared cluster, on the PostgreSQL store.</summary>
    public string? PostgresDatabase { get; }

    /// <summary>What the server under test has as <c>ConnectionStrings:Dot</c>.</summary>
    public string ConnectionString { get; }

    /// <summary>The settings a CLI or server process needs to reach this factory's store, as <c>--key=value</c> arguments.</summary>
    public string[] StoreArguments => IsPostgres
        ? ["--Dot:Database:Provider=postgres", $"--ConnectionStrings:Dot={ConnectionString}"]
        : [$"--ConnectionStrings:Dot={ConnectionString}"];

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero));

    public CapturedLogs Logs { get; } = new();

    /// <summary>Every category at Trace (the hosting diagnostics too, which appsettings.json sets to None): what the strictest operator could switch on.</summary>
    public DotApiFactory WithTraceLogging()
    {
        foreach (var category in new[] { "Default", "Microsoft", "Microsoft.AspNetCore", "Microsoft.EntityFrameworkCore", "System", "Dot", "Dot.Api.Authentication.ApiTokenHandler",
            "Microsoft.AspNetCore.Hosting.Diagnostics" })
        {
            _settings[$"Logging:LogLevel:{category}"] = "Trace";
        }

        return this;
    }

    private string _environment = "Development";

    /// <summary>The hosting environment (Development unless a test needs Production's behaviour).</summary>
    public DotApiFactory WithEnvironment(string environment)
    {
        _environment = environment;
        return this;
    }

    public DotApiFactory WithSetting(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    public DotApiFactory WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    /// <summary>Maps extra routes, as only this test host has them.</summary>
    public DotApiFactory WithEndpoints(Action<IEndpointRouteBuilder> map)
        => WithServices(s => s.AddSingleton<IEndpointContributor>(new DelegateContributor(map)));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseEnvironment(_environment);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Time);
            foreach (var configure in _services)
            {
                configure(services);
            }
        });
    }

    /// <summary>A context on this factory's store, outside the server: what another instance or the CLI would change.</summary>
    public DotDbContext OpenStore() => IsPostgres
        ? new PostgresDotDbContext(new DbContextOptionsBuilder<PostgresDotDbContext>().UseNpgsql(ConnectionString).Options)
        : new SqliteDotDbContext(new DbContextOptionsBuilder<SqliteDotDbContext>().UseSqlite(ConnectionString).Options);

    public async Task<User> CreateUserAsync(string email, Role role = Role.User, string? password = null)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserService>();
        return await users.CreateAsync(email, null, role, password, CancellationToken.None)
            ?? throw new InvalidOperationException($"{email} exists");
    }

    /// <summary>A real token, minted by <see cref="TokenService"/>: the plaintext and its id.</summary>
    public async Task<(string Token, Guid Id)> CreateTokenAsync(Guid userId, string name = "test", TimeSpan? lifetime = null,
        IReadOnlyList<string>? scopes = null, IReadOnlyList<string>? allowedIps = null)
    {
        await using var scope = Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        DateTime? expiresAt = lifetime is { } l ? Time.GetUtcNow().UtcDateTime + l : null;
        var errors = new FieldErrors();
        var restrictions = new TokenRestrictions(TokenScopes.Parse(scopes, "scopes", errors), AllowedIps.Parse(allowedIps, "allowed_ips", errors));
        if (!errors.IsEmpty)
        {
            throw new ArgumentException(errors.ToString());
        }

        var minted = await tokens.TryCreateAsync(minter: null, userId, name, null, expiresAt, restrictions, CancellationToken.None);
        return minted is MintResult.Minted { Token: var token, Plaintext: var plaintext }
            ? (plaintext, token.Id)
            : throw new InvalidOperationException($"No token minted: {minted}");
    }

    /// <summary>A user with a token, and a client that sends it in the API-KEY header.</summary>
    public async Task<(User User, string Token, HttpClient Client)> CreateCallerAsync(string email, Role role = Role.User)
    {
        var user = await CreateUserAsync(email, role);
        var (token, _) = await CreateTokenAsync(user.Id);
        return (user, token, ClientWith(token));
    }

    public HttpClient ClientWith(string token, string header = "API-KEY")
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(header, token);
        return client;
    }

    public async Task FlushTokenUsageAsync()
        => await Services.GetRequiredService<TokenUsageRecorder>().FlushAsync(CancellationToken.None);

    /// <summary>Stops the server (flushing what it holds) but keeps its files, to inspect them.</summary>
    public async Task DisposeServerKeepFilesAsync()
    {
        _keepFiles = true;
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private bool _keepFiles;

    public override async ValueTask DisposeAsync()
    {
        if (_keepFiles)
        {
            _keepFiles = false;
            DeleteFiles();
            return;
        }

        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        DeleteFiles();
    }

    private void DeleteFiles()
    {
        if (PostgresDatabase is { } database)
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            Task.Run(() => SharedPostgres.DropDatabaseAsync(database)).GetAwaiter().GetResult();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class DelegateContributor(Action<IEndpointRouteBuilder> map) : IEndpointContributor
    {
        public void Map(IEndpointRouteBuilder routes) => map(routes);
    }
}

public static class HttpContentExtensions
{
    public static Task<T?> ReadJsonAsync<T>(this HttpContent content)
        => content.ReadFromJsonAsync<T>(TestJson.Options);
}

using Dot.Api.Data.Postgres;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// The store the HTTP suite runs on: <c>DOT_TEST_STORE</c> = <c>sqlite</c> (default) or <c>postgres</c>. The README's
/// test command (<c>./test.sh</c>) runs the suite once for each. On PostgreSQL every server under test gets a
/// database of its own, copied from a template that the product's PostgreSQL migrations built once per test run.
/// </summary>
public static class TestStore
{
    public static bool IsPostgres { get; } = string.Equals(
        Environment.GetEnvironmentVariable("DOT_TEST_STORE")?.Trim(), "postgres", StringComparison.OrdinalIgnoreCase);

    public static string Name => IsPostgres ? "postgres" : "sqlite";

    /// <summary>Skips a test that is SQLite by nature (file bytes, PRAGMAs) on the PostgreSQL run, saying why.</summary>
    public static void RequireSqlite(string why) => Skip.If(IsPostgres, $"SQLite by nature ({why}); the PostgreSQL run has its own counterpart where one makes sense.");
}

/// <summary>
/// One PostgreSQL cluster for the whole test process (started on first use, stopped when the process exits) and the
/// template database of the product's schema. Tests that need PostgreSQL whatever <c>DOT_TEST_STORE</c> says (the
/// PostgreSQL race and notification tests) use it too.
/// </summary>
public static class SharedPostgres
{
    private const string Template = "dot_template";
    private static readonly Lazy<Task<PostgresCluster>> Cluster = new(StartAsync);
    private static readonly SemaphoreSlim CopyGate = new(1, 1);

    public static Task<PostgresCluster> GetAsync() => Cluster.Value;

    /// <summary>A new database holding the migrated schema (no rows but the migrations history); its name.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var cluster = await GetAsync();
        var name = "t_" + Guid.NewGuid().ToString("N")[..20];
        // CREATE DATABASE … TEMPLATE refuses while another copy of the template is being made: one at a time.
        await CopyGate.WaitAsync();
        try
        {
            await using var connection = new NpgsqlConnection(cluster.ConnectionString("postgres"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE {Template}", connection);
            await command.ExecuteNonQueryAsync();
        }
        finally
        {
            CopyGate.Release();
        }

        return name;
    }

    public static async Task DropDatabaseAsync(string name)
    {
        var cluster = await GetAsync();
        await using var connection = new NpgsqlConnection(cluster.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The connection string the server under test uses for a database of the shared cluster.</summary>
    public static async Task<string> ConnectionStringAsync(string database)
    {
        var cluster = await GetAsync();
        return new NpgsqlConnectionStringBuilder(cluster.ConnectionString(database)) { Pooling = true }.ConnectionString;
    }

    private static async Task<PostgresCluster> StartAsync()
    {
        var cluster = new PostgresCluster();
        await cluster.InitializeAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().GetAwaiter().GetResult();
        cluster.Require();
        await using (var connection = new NpgsqlConnection(cluster.ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {Template}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var options = new DbContextOptionsBuilder<PostgresDotDbContext>().UseNpgsql(cluster.ConnectionString(Template)).Options;
        await using (var db = new PostgresDotDbContext(options))
        {
            await db.Database.MigrateAsync();
        }

        NpgsqlConnection.ClearAllPools();
        return cluster;
    }
}

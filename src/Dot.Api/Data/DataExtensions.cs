using System.Globalization;
using Dot.Api.Data.Postgres;
using Dot.Api.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Dot.Api.Data;

/// <summary>The store a server uses: <c>Dot:Database:Provider</c> = <c>sqlite</c> (default) or <c>postgres</c>.</summary>
public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

public static class DataExtensions
{
    public const string ConnectionStringName = "Dot";
    public const string DefaultConnectionString = "Data Source=dot.db";
    public const string ProviderKey = "Dot:Database:Provider";

    public static string ConnectionString(IConfiguration configuration)
        => configuration.GetConnectionString(ConnectionStringName) ?? DefaultConnectionString;

    /// <summary>The configured provider; a value other than the two is refused at start with what to write instead.</summary>
    public static DatabaseProvider Provider(IConfiguration configuration) => configuration[ProviderKey]?.Trim().ToLowerInvariant() switch
    {
        null or "" or "sqlite" => DatabaseProvider.Sqlite,
        "postgres" or "postgresql" or "npgsql" => DatabaseProvider.Postgres,
        var other => throw new InvalidOperationException($"{ProviderKey} is '{other}': use 'sqlite' (the default) or 'postgres'."),
    };

    public static IServiceCollection AddDotData(this IServiceCollection services, IConfiguration configuration)
    {
        var provider = Provider(configuration);
        var connectionString = ConnectionString(configuration);
        services.AddSingleton(new DotStore(provider, connectionString));
        services.AddSingleton<ChangesOnCommit>();
        if (provider == DatabaseProvider.Postgres)
        {
            if (connectionString == DefaultConnectionString)
            {
                throw new InvalidOperationException(
                    $"{ProviderKey} is 'postgres' but ConnectionStrings:Dot is not set: give an Npgsql connection string (Host=…;Database=…;Username=…;Password=…).");
            }

            // One data source for the process: EF Core, the token lookup and the change listener share its pool.
            services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
            services.AddDbContext<DotDbContext, PostgresDotDbContext>((sp, o) => Common(sp, o.UseNpgsql(
                sp.GetRequiredService<NpgsqlDataSource>(),
                npgsql => npgsql.EnableRetryOnFailure(maxRetryCount: 3, maxRetryDelay: TimeSpan.FromSeconds(1), errorCodesToAdd: null))));
        }
        else
        {
            services.AddDbContext<DotDbContext, SqliteDotDbContext>((sp, o) => Common(sp, o.UseSqlite(connectionString)));
        }

        return services;
    }

    /// <summary>
    /// What both stores' contexts share. Migrating does not diff the model against the migrations' snapshot
    /// (EF Core's PendingModelChangesWarning): that diff builds the design-time model at every start and every CLI
    /// command (about 0.4 s of a command's 1 s, measured with dotnet-trace; docs/benchmark.md), to find what the
    /// test <c>ModelTests.EveryModelChangeHasAMigrationOnEachStore</c> finds before anything ships.
    /// Every context publishes the changes its transactions made once they commit (<see cref="ChangesOnCommit"/>).
    /// </summary>
    private static DbContextOptionsBuilder Common(IServiceProvider services, DbContextOptionsBuilder options)
        => options.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning))
            .AddInterceptors(services.GetRequiredService<ChangesOnCommit>());

    /// <summary>
    /// Applies the provider's checked-in migrations (SQLite is then put in WAL mode: readers never wait for the writer).
    /// On PostgreSQL several instances may start at once on an empty database: a session advisory lock lets one
    /// migrate while the others wait, then find nothing left to apply.
    /// A database whose history already holds every migration is left as it is: one query of the history table, not
    /// EF Core's migration lock and history setup (100–155 ms of every start and CLI command; docs/benchmark.md).
    /// </summary>
    public static async Task MigrateDotDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        var postgres = db.Database.IsNpgsql();
        if (await HasPendingMigrationsAsync(db, cancellationToken))
        {
            if (postgres)
            {
                await MigratePostgresAsync(scope.ServiceProvider.GetRequiredService<NpgsqlDataSource>(), db, cancellationToken);
            }
            else
            {
                await db.Database.MigrateAsync(cancellationToken);
            }
        }

        if (!postgres)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }

    /// <summary>
    /// Whether a migration of this build is missing from the database's history (or the history is not there yet).
    /// Read without a lock: "none missing" stays true once true, since migrations are only ever added; "some missing"
    /// goes on to <c>MigrateAsync</c>, which takes its lock and reads the history again. Read with one query of the
    /// history table rather than EF Core's <c>GetPendingMigrationsAsync</c>, whose history repository builds a model
    /// of that table first (about 130 ms of a CLI command; docs/benchmark.md), and run by the store's execution
    /// strategy, as <c>MigrateAsync</c> is: on PostgreSQL a transient failure is retried.
    /// </summary>
    private static async Task<bool> HasPendingMigrationsAsync(DotDbContext db, CancellationToken cancellationToken)
    {
        var applied = await db.Database.CreateExecutionStrategy().ExecuteAsync(db, ReadHistoryAsync, cancellationToken);
        return applied is null || db.Database.GetMigrations().Any(id => !applied.Contains(id));
    }

    /// <summary>EF Core's history table (<c>HistoryRepository.DefaultTableName</c>; this project does not rename it).</summary>
    private const string HistoryTable = "__EFMigrationsHistory";

    /// <summary>The migration ids the database's history holds; null when it has no history table (a new database).</summary>
    private static async Task<HashSet<string>?> ReadHistoryAsync(DotDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            await using (var exists = connection.CreateCommand())
            {
                // Unqualified, as EF Core names it: PostgreSQL resolves it through the search path.
                exists.CommandText = db.Database.IsNpgsql()
                    ? $"SELECT to_regclass('\"{HistoryTable}\"') IS NOT NULL"
                    : $"SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{HistoryTable}')";
                if (!Convert.ToBoolean(await exists.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture))
                {
                    return null;
                }
            }

            await using var read = connection.CreateCommand();
            read.CommandText = $"SELECT \"MigrationId\" FROM \"{HistoryTable}\"";
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Any 64-bit number, the same in every instance: the advisory lock that makes migrating one instance's job.</summary>
    private const long MigrationLockKey = 0x446f_7441_7069_4d67; // "DotApiMg"

    private static async Task MigratePostgresAsync(NpgsqlDataSource dataSource, DotDbContext db, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", connection))
        {
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await db.Database.MigrateAsync(cancellationToken);
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationLockKey})", connection);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}

/// <summary>Which store this process uses, for the few places that speak to it below EF Core.</summary>
public sealed record DotStore(DatabaseProvider Provider, string ConnectionString)
{
    public bool IsPostgres => Provider == DatabaseProvider.Postgres;
}

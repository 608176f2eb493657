using System.Data;
using System.Data.Common;
using Dot.Api.Data.Postgres.CompiledModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Dot.Api.Data.Postgres;

/// <summary>
/// The PostgreSQL store, which several instances share: one <see cref="NpgsqlDataSource"/> for the process (EF Core,
/// the keyed reads and the notices share its pool), notices between instances by <c>NOTIFY</c> (heard by the
/// <see cref="NotificationListener"/>), and a session advisory lock around migrating.
/// </summary>
public sealed class PostgresStore(string connectionString, NpgsqlDataSource dataSource) : IStoreProvider
{
    /// <summary><c>Dot:Database:Provider</c> = <c>postgres</c> (or <c>postgresql</c>, <c>npgsql</c>): for the host's <see cref="DataExtensions.AddDotData"/>.</summary>
    public static StoreRegistration Registration { get; } = new("postgres", ["postgresql", "npgsql"],
        (services, connectionString) => services.AddDotPostgres(connectionString));

    /// <summary>Any 64-bit number, the same in every instance: the advisory lock that makes migrating one instance's job.</summary>
    private const long MigrationLockKey = 0x446f_7441_7069_4d67; // "DotApiMg"

    private const string UniqueViolation = "23505";

    public string Name => "postgres";

    /// <summary>As configured (the listener opens its own connection with it).</summary>
    public string ConnectionString { get; } = connectionString;

    /// <summary>Unqualified, as EF Core names it: PostgreSQL resolves it through the search path.</summary>
    public string TableExistsSql(string table) => $"SELECT to_regclass('\"{table}\"') IS NOT NULL";

    /// <summary>
    /// Several instances may start at once on an empty database: the session advisory lock lets one migrate while the
    /// others wait, then find nothing left to apply.
    /// </summary>
    public async Task MigrateAsync(DotDbContext db, CancellationToken cancellationToken)
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

    public Task PrepareAsync(DotDbContext db, CancellationToken cancellationToken) => Task.CompletedTask;

    public bool IsUniqueViolation(DbUpdateException exception)
        => exception.InnerException is PostgresException { SqlState: UniqueViolation };

    /// <summary>
    /// A transient Npgsql failure (connection refused or broken, a timeout, the server shutting down or starting up,
    /// too many connections) is away for now; any other answer of the server is its verdict on the statement.
    /// </summary>
    public bool? IsUnavailable(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient || IsUnavailableState(postgres.SqlState),
        NpgsqlException { IsTransient: true } => true,
        _ => null,
    };

    /// <summary>Connection exceptions (08), insufficient resources (53), operator intervention (57P: shutdown, starting up).</summary>
    private static bool IsUnavailableState(string sqlState)
        => sqlState.StartsWith("08", StringComparison.Ordinal)
            || sqlState.StartsWith("53", StringComparison.Ordinal)
            || sqlState.StartsWith("57P", StringComparison.Ordinal);

    public IKeyedRead<T> PrepareKeyedRead<T>(string sql, Func<DbDataReader, T> read) where T : class
        => new KeyedRead<T>(dataSource, sql.Replace(IStoreProvider.KeyParameter, "$1", StringComparison.Ordinal), read);

    public async Task<IAsyncDisposable> BeginSnapshotAsync(DotDbContext db, CancellationToken cancellationToken)
        => await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);

    public bool NotifiesOtherInstances => true;

    public async Task NotifyInTransactionAsync(DotDbContext db, string channel, string payload, CancellationToken cancellationToken)
        => await db.Database.ExecuteSqlAsync($"SELECT pg_notify({channel}, {payload})", cancellationToken);

    public async Task NotifyAsync(string channel, string payload, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT pg_notify($1, $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = channel });
        command.Parameters.Add(new NpgsqlParameter { Value = payload });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The read on the process's pool, prepared once per physical connection: Npgsql keeps a prepared statement
    /// across a pooled connection's close and open. Positional (<c>$1</c>): Npgsql does not rewrite the SQL.
    /// </summary>
    private sealed class KeyedRead<T>(NpgsqlDataSource dataSource, string sql, Func<DbDataReader, T> read) : IKeyedRead<T> where T : class
    {
        public async Task<T?> FindAsync(byte[] key, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = key });
            await command.PrepareAsync(cancellationToken);
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow, cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? read(reader) : null;
        }

        public void Dispose()
        {
        }
    }
}

public static class PostgresStoreExtensions
{
    /// <summary>
    /// The PostgreSQL store on <paramref name="connectionString"/> (required): the process's data source, its
    /// context on the compiled model with its migrations and a retrying execution strategy, its
    /// <see cref="IStoreProvider"/>, and the instance's <see cref="NotificationListener"/>.
    /// </summary>
    public static IServiceCollection AddDotPostgres(this IServiceCollection services, string? connectionString)
    {
        if (connectionString is null)
        {
            throw new InvalidOperationException(
                $"{DataExtensions.ProviderKey} is 'postgres' but ConnectionStrings:{DataExtensions.ConnectionStringName} is not set: give an Npgsql connection string (Host=…;Database=…;Username=…;Password=…).");
        }

        // One data source for the process: EF Core, the keyed reads and the notices share its pool.
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        services.AddSingleton(sp => new PostgresStore(connectionString, sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton<IStoreProvider>(sp => sp.GetRequiredService<PostgresStore>());
        services.AddDotDbContext<PostgresDotDbContext>((sp, o) => o
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>(), npgsql =>
            {
                PostgresDotDbContext.UseMigrationsHere(npgsql);
                npgsql.EnableRetryOnFailure(maxRetryCount: 3, maxRetryDelay: TimeSpan.FromSeconds(1), errorCodesToAdd: null);
            })
            .UseModel(PostgresDotDbContextModel.Instance));
        services.AddHostedService<NotificationListener>();
        return services;
    }
}

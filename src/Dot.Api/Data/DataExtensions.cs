using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Dot.Api.Data;

public static class DataExtensions
{
    public const string ConnectionStringName = "Dot";
    public const string ProviderKey = "Dot:Database:Provider";

    /// <summary>The store when <see cref="ProviderKey"/> is not set.</summary>
    public const string DefaultProvider = "sqlite";

    /// <summary>
    /// Registers the store that <see cref="ProviderKey"/> names (<see cref="DefaultProvider"/> when unset), one of
    /// <paramref name="stores"/> (the provider projects' <see cref="StoreRegistration"/>s, which the host passes in);
    /// a value that names none of them is refused at start with what to write instead.
    /// </summary>
    public static IServiceCollection AddDotData(this IServiceCollection services, IConfiguration configuration, params StoreRegistration[] stores)
    {
        var name = configuration[ProviderKey]?.Trim() is { Length: > 0 } given ? given : DefaultProvider;
        var store = stores.FirstOrDefault(s => s.IsNamed(name)) ?? throw new InvalidOperationException(
            $"{ProviderKey} is '{name}': use {string.Join(" or ", stores.Select(s => s.Name == DefaultProvider ? $"'{s.Name}' (the default)" : $"'{s.Name}'"))}.");
        services.AddSingleton<ChangesOnCommit>();
        store.Register(services, configuration.GetConnectionString(ConnectionStringName));
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="TContext"/> (a provider's context type, with its migrations and compiled model)
    /// as the <see cref="DotDbContext"/> the features ask for: <paramref name="useStore"/> selects the provider
    /// (<c>UseSqlite</c>, <c>UseNpgsql</c>); what every store's context shares is added here.
    /// </summary>
    public static IServiceCollection AddDotDbContext<TContext>(this IServiceCollection services,
        Action<IServiceProvider, DbContextOptionsBuilder> useStore)
        where TContext : DotDbContext
        => services.AddDbContext<DotDbContext, TContext>((sp, o) =>
        {
            useStore(sp, o);
            Common(sp, o);
        });

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
    /// Applies the provider's checked-in migrations under the store's migration lock (<see cref="IStoreProvider.MigrateAsync"/>;
    /// on PostgreSQL several instances may start at once on an empty database), then lets the store set itself up
    /// (<see cref="IStoreProvider.PrepareAsync"/>: SQLite is put in WAL mode, readers never wait for the writer).
    /// A database whose history already holds every migration is left as it is: one query of the history table, not
    /// EF Core's migration lock and history setup (100–155 ms of every start and CLI command; docs/benchmark.md).
    /// </summary>
    public static async Task MigrateDotDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        var store = scope.ServiceProvider.GetRequiredService<IStoreProvider>();
        if (await HasPendingMigrationsAsync(db, store, cancellationToken))
        {
            await store.MigrateAsync(db, cancellationToken);
        }

        await store.PrepareAsync(db, cancellationToken);
    }

    /// <summary>
    /// Whether a migration of this build is missing from the database's history (or the history is not there yet).
    /// Read without a lock: "none missing" stays true once true, since migrations are only ever added; "some missing"
    /// goes on to <c>MigrateAsync</c>, which takes its lock and reads the history again. Read with one query of the
    /// history table rather than EF Core's <c>GetPendingMigrationsAsync</c>, whose history repository builds a model
    /// of that table first (about 130 ms of a CLI command; docs/benchmark.md), and run by the store's execution
    /// strategy, as <c>MigrateAsync</c> is: on PostgreSQL a transient failure is retried.
    /// </summary>
    private static async Task<bool> HasPendingMigrationsAsync(DotDbContext db, IStoreProvider store, CancellationToken cancellationToken)
    {
        var applied = await db.Database.CreateExecutionStrategy().ExecuteAsync(db,
            (context, ct) => ReadHistoryAsync(context, store, ct), cancellationToken);
        return applied is null || db.Database.GetMigrations().Any(id => !applied.Contains(id));
    }

    /// <summary>EF Core's history table (<c>HistoryRepository.DefaultTableName</c>; this project does not rename it).</summary>
    private const string HistoryTable = "__EFMigrationsHistory";

    /// <summary>The migration ids the database's history holds; null when it has no history table (a new database).</summary>
    private static async Task<HashSet<string>?> ReadHistoryAsync(DotDbContext db, IStoreProvider store, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            await using (var exists = connection.CreateCommand())
            {
                exists.CommandText = store.TableExistsSql(HistoryTable);
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
}

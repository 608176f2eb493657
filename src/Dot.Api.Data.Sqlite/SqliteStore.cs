using System.Collections.Concurrent;
using System.Data.Common;
using Dot.Api.Data.Sqlite.CompiledModel;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Data.Sqlite;

/// <summary>
/// The SQLite store (the default): one file, one process. Nothing is sent between instances (there is one), the
/// migration lock is SQLite's own write lock, and a database that answers "busy" past its timeout is away for now.
/// </summary>
public sealed class SqliteStore(string connectionString) : IStoreProvider
{
    /// <summary>What <c>ConnectionStrings:Dot</c> is when not set: <c>dot.db</c> in the working directory.</summary>
    public const string DefaultConnectionString = "Data Source=dot.db";

    /// <summary><c>Dot:Database:Provider</c> = <c>sqlite</c> (or unset): for the host's <see cref="DataExtensions.AddDotData"/>.</summary>
    public static StoreRegistration Registration { get; } = new("sqlite", [], (services, connectionString) => services.AddDotSqlite(connectionString));

    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;

    public string Name => "sqlite";

    public string ConnectionString { get; } = connectionString;

    public string TableExistsSql(string table)
        => $"SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{table}')";

    /// <summary>EF Core's own: SQLite's write lock (<c>BEGIN IMMEDIATE</c>) keeps a second migrating process waiting.</summary>
    public Task MigrateAsync(DotDbContext db, CancellationToken cancellationToken) => db.Database.MigrateAsync(cancellationToken);

    /// <summary>WAL mode (it stays with the file): readers never wait for the writer.</summary>
    public Task PrepareAsync(DotDbContext db, CancellationToken cancellationToken)
        => db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);

    public bool IsUniqueViolation(DbUpdateException exception)
        => exception.InnerException is SqliteException { SqliteExtendedErrorCode: SqliteConstraintUnique or SqliteConstraintPrimaryKey };

    public bool? IsUnavailable(Exception exception) => exception switch
    {
        SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked } => true,
        _ => null,
    };

    public IKeyedRead<T> PrepareKeyedRead<T>(string sql, Func<DbDataReader, T> read) where T : class
        => new KeyedRead<T>(ConnectionString, sql, read);

    /// <summary>
    /// DEFERRED: a reader that takes no write lock, so writers carry on while a long read streams (EF Core's own
    /// <c>BeginTransaction</c> is <c>BEGIN IMMEDIATE</c>, which would hold the write lock throughout).
    /// </summary>
    public async Task<IAsyncDisposable> BeginSnapshotAsync(DotDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        var transaction = ((SqliteConnection)db.Database.GetDbConnection()).BeginTransaction(deferred: true);
        await db.Database.UseTransactionAsync(transaction, cancellationToken);
        return transaction;
    }

    public bool NotifiesOtherInstances => false;

    public Task NotifyInTransactionAsync(DotDbContext db, string channel, string payload, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task NotifyAsync(string channel, string payload, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The read on one of a few connections kept open, each with the statement prepared once. Microsoft.Data.Sqlite
    /// runs statements synchronously (its async methods wrap the same calls): reading one indexed row from the page
    /// cache is faster than a thread hop, so the answer is a completed task.
    /// </summary>
    private sealed class KeyedRead<T>(string connectionString, string sql, Func<DbDataReader, T> read) : IKeyedRead<T> where T : class
    {
        private static readonly int MaxIdle = Math.Max(4, Environment.ProcessorCount * 2);
        private readonly ConcurrentBag<Lease> _idle = [];

        public Task<T?> FindAsync(byte[] key, CancellationToken cancellationToken)
        {
            var lease = _idle.TryTake(out var idle) ? idle : new Lease(connectionString, sql);
            try
            {
                var found = lease.Find(key, read);
                Return(lease);
                return Task.FromResult(found);
            }
            catch
            {
                lease.Dispose(); // a connection in an unknown state is not reused
                throw;
            }
        }

        private void Return(Lease lease)
        {
            if (_idle.Count < MaxIdle)
            {
                _idle.Add(lease);
            }
            else
            {
                lease.Dispose();
            }
        }

        public void Dispose()
        {
            while (_idle.TryTake(out var lease))
            {
                lease.Dispose();
            }
        }
    }

    private sealed class Lease : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _command;
        private readonly SqliteParameter _key;

        public Lease(string connectionString, string sql)
        {
            _connection = new SqliteConnection(connectionString);
            _connection.Open();
            _command = _connection.CreateCommand();
            _command.CommandText = sql;
            _key = _command.Parameters.Add(IStoreProvider.KeyParameter, SqliteType.Blob);
            _command.Prepare();
        }

        public T? Find<T>(byte[] key, Func<DbDataReader, T> read) where T : class
        {
            _key.Value = key;
            using var reader = _command.ExecuteReader();
            return reader.Read() ? read(reader) : null;
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }
}

public static class SqliteStoreExtensions
{
    /// <summary>
    /// The SQLite store on <paramref name="connectionString"/> (<see cref="SqliteStore.DefaultConnectionString"/> when
    /// null): its context on the compiled model, with its migrations, and its <see cref="IStoreProvider"/>.
    /// </summary>
    public static IServiceCollection AddDotSqlite(this IServiceCollection services, string? connectionString)
    {
        var store = new SqliteStore(connectionString ?? SqliteStore.DefaultConnectionString);
        services.AddSingleton(store);
        services.AddSingleton<IStoreProvider>(store);
        services.AddDotDbContext<SqliteDotDbContext>((_, o) => o
            .UseSqlite(store.ConnectionString, SqliteDotDbContext.UseMigrationsHere)
            .UseModel(SqliteDotDbContextModel.Instance));
        return services;
    }
}

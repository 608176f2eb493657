using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Data;

/// <summary>
/// Everything that differs between the stores, behind one interface: the features ask it and never ask which store
/// they run on. Each provider project implements it (<c>src/Dot.Api.Data.Sqlite</c>, <c>src/Dot.Api.Data.Postgres</c>)
/// beside its context type, migrations and compiled model, and registers it through its <see cref="StoreRegistration"/>;
/// only those projects use the stores' client libraries (Microsoft.Data.Sqlite, Npgsql). One instance per process.
/// </summary>
public interface IStoreProvider
{
    /// <summary>The store's name, as <c>Dot:Database:Provider</c> gives it: <c>sqlite</c> or <c>postgres</c>.</summary>
    string Name { get; }

    /// <summary>
    /// A query that answers one boolean: whether the table <paramref name="table"/> exists (unqualified, as EF Core
    /// names its history table). Read before migrating (<see cref="DataExtensions.MigrateDotDatabaseAsync"/>).
    /// </summary>
    string TableExistsSql(string table);

    /// <summary>
    /// Applies the context's pending migrations, under the store's migration lock where several instances may start
    /// at once (PostgreSQL: a session advisory lock; one migrates, the others wait and find nothing left to apply).
    /// </summary>
    Task MigrateAsync(DotDbContext db, CancellationToken cancellationToken);

    /// <summary>After the schema is current, at every start and CLI command: the store's own settings (SQLite: WAL).</summary>
    Task PrepareAsync(DotDbContext db, CancellationToken cancellationToken);

    /// <summary>Whether a save failed because a unique index or primary key already holds the value.</summary>
    bool IsUniqueViolation(DbUpdateException exception);

    /// <summary>
    /// What one exception of a chain says of the database (<see cref="Infrastructure.DatabaseUnavailable"/> walks the
    /// chain): <c>true</c>, away for now (down, restarting, unreachable, out of connections, busy past its timeout);
    /// <c>false</c>, it answered with a verdict on the statement; <c>null</c>, not this store's exception.
    /// </summary>
    bool? IsUnavailable(Exception exception);

    /// <summary>
    /// A prepared one-row read by a binary key outside EF Core, for a hot path (the token cache's miss): no DI scope
    /// and no DbContext per call. <paramref name="sql"/> names the key <see cref="KeyParameter"/>; the store binds
    /// it in its own dialect. <paramref name="read"/> maps the row (called at most once per call). Dispose it with
    /// the owner.
    /// </summary>
    IKeyedRead<T> PrepareKeyedRead<T>(string sql, Func<DbDataReader, T> read) where T : class;

    /// <summary>The key's name in a <see cref="PrepareKeyedRead{T}"/> query.</summary>
    const string KeyParameter = "@key";

    /// <summary>
    /// Opens a read-only transaction on <paramref name="db"/> that sees one snapshot until it is disposed and does not
    /// hold back writers (SQLite: a DEFERRED transaction, which takes no write lock; PostgreSQL: REPEATABLE READ).
    /// </summary>
    Task<IAsyncDisposable> BeginSnapshotAsync(DotDbContext db, CancellationToken cancellationToken);

    /// <summary>
    /// Whether other instances can share this store and hear its notices (PostgreSQL's <c>LISTEN</c>/<c>NOTIFY</c>,
    /// with a listener this provider runs). False on SQLite: one process, nothing to tell; the notify calls do nothing.
    /// </summary>
    bool NotifiesOtherInstances { get; }

    /// <summary>
    /// Sends a (sealed, <see cref="NoticeSeal"/>) notice to every instance within <paramref name="db"/>'s current
    /// transaction: delivered when it commits, dropped when it rolls back.
    /// </summary>
    Task NotifyInTransactionAsync(DotDbContext db, string channel, string payload, CancellationToken cancellationToken);

    /// <summary>Sends a (sealed) notice to every instance now, on a connection of its own. Throws a <see cref="DbException"/> or a <see cref="TimeoutException"/> when the store cannot be reached.</summary>
    Task NotifyAsync(string channel, string payload, CancellationToken cancellationToken);
}

/// <summary>A prepared read of one row by a binary key (<see cref="IStoreProvider.PrepareKeyedRead{T}"/>).</summary>
public interface IKeyedRead<T> : IDisposable where T : class
{
    /// <summary>The row whose key is <paramref name="key"/>, mapped; null when there is none.</summary>
    Task<T?> FindAsync(byte[] key, CancellationToken cancellationToken);
}

/// <summary>
/// A store the host can run on: the names <c>Dot:Database:Provider</c> may give it, and what registers it (its
/// context type with its migrations and compiled model, its <see cref="IStoreProvider"/>, its own services) given
/// <c>ConnectionStrings:Dot</c> (null when not set). Each provider project has one; the host passes them to
/// <see cref="DataExtensions.AddDotData"/>, which registers the configured one.
/// </summary>
public sealed record StoreRegistration(string Name, IReadOnlyList<string> OtherNames, Action<IServiceCollection, string?> Register)
{
    public bool IsNamed(string name)
        => string.Equals(Name, name, StringComparison.OrdinalIgnoreCase) || OtherNames.Contains(name, StringComparer.OrdinalIgnoreCase);
}

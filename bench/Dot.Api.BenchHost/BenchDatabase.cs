using Dot.Api.Data.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.BenchHost;

/// <summary>The seeding commands' database: the product's schema (its migrations), opened for bulk inserts.</summary>
internal static class BenchDatabase
{
    /// <summary><c>--connection</c>, else <c>ConnectionStrings__Dot</c> as the server reads it, else the default.</summary>
    public static string ConnectionString(string? given)
        => given ?? Environment.GetEnvironmentVariable("ConnectionStrings__Dot") ?? SqliteStore.DefaultConnectionString;

    /// <summary>Whether the store is PostgreSQL, as the server reads <c>Dot:Database:Provider</c> from the environment.</summary>
    public static bool IsPostgres => string.Equals(Environment.GetEnvironmentVariable("Dot__Database__Provider")?.Trim(), "postgres", StringComparison.OrdinalIgnoreCase);

    public static async Task<SqliteConnection> OpenForSeedingAsync(string connectionString)
    {
        await using (var db = new SqliteDotDbContext(new DbContextOptionsBuilder<SqliteDotDbContext>().UseSqlite(connectionString).Options))
        {
            await db.Database.MigrateAsync();
        }

        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-200000;");
        return connection;
    }

    /// <summary>Folds the WAL back into the database file, so the server reads the tables as settled ones.</summary>
    public static Task CheckpointAsync(SqliteConnection connection) => ExecuteAsync(connection, "PRAGMA wal_checkpoint(TRUNCATE);");

    public static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<long> ScalarAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

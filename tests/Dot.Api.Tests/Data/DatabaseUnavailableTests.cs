using System.Net.Sockets;
using Dot.Api.Data;
using Dot.Api.Data.Postgres;
using Dot.Api.Data.Sqlite;
using Dot.Api.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Dot.Api.Tests;

/// <summary>Which failures are "the database does not answer" (503 with Retry-After) and which stay a 500 or their own answer.</summary>
[Trait("Store", "any")]
public sealed class DatabaseUnavailableTests
{
    public static TheoryData<string, Exception, bool> Cases => new()
    {
        { "connection refused", new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), true },
        { "connect timeout", new NpgsqlException("The operation has timed out", new TimeoutException()), true },
        { "EF retries used up", new RetryLimitExceededException("retries", new NpgsqlException("x", new SocketException())), true },
        { "inside a save", new DbUpdateException("save", new NpgsqlException("x", new IOException("broken pipe"))), true },
        { "admin shutdown", new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01"), true },
        { "starting up", new PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03"), true },
        { "too many connections", new PostgresException("sorry, too many clients already", "FATAL", "FATAL", "53300"), true },
        { "sqlite busy", new SqliteException("database is locked", 5), true },
        { "unique violation", new DbUpdateException("save", new PostgresException("duplicate key", "ERROR", "ERROR", "23505")), false },
        { "syntax error", new PostgresException("syntax error", "ERROR", "ERROR", "42601"), false },
        { "sqlite constraint", new SqliteException("constraint failed", 19), false },
        { "a bug", new InvalidOperationException("Sequence contains no elements"), false },
        { "a bare timeout elsewhere", new TimeoutException(), false },
    };

    /// <summary>Each case on the store whose exceptions it holds (the other store's are not its business: never thrown there).</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void DatabaseFailuresThatPassAreUnavailableOthersAreNot(string name, Exception exception, bool unavailable)
    {
        IStoreProvider store = Chain(exception).Any(e => e is SqliteException)
            ? new SqliteStore("Data Source=:memory:")
            : new PostgresStore("Host=127.0.0.1", NpgsqlDataSource.Create("Host=127.0.0.1"));
        Assert.True(DatabaseUnavailable.Is(exception, store) == unavailable, $"{name} on {store.Name}: expected {(unavailable ? "" : "not ")}unavailable");
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}

using System.Collections.Concurrent;
using Dot.Api.Access;
using Dot.Api.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Dot.Api.Tokens;

/// <summary>What authentication needs to know of a token and its owner, as they are now.</summary>
public sealed record VerifiedToken(
    Guid TokenId,
    string TokenName,
    DateTime? ExpiresAt,
    DateTime? RevokedAt,
    DateTime? GraceEndsAt,
    Guid UserId,
    string Email,
    string UserName,
    Role Role,
    bool Disabled,
    string? Scopes = null,
    string? AllowedIps = null,
    Users.UserKind Kind = Users.UserKind.Person,
    string? Hint = null);

/// <summary>
/// Finds a token by its hash for the cache's miss path: one prepared statement, no DI scope and no DbContext per
/// lookup, on either store. On SQLite it runs on one of a few connections kept open; on PostgreSQL on the process's
/// <see cref="NpgsqlDataSource"/> pool, prepared once per physical connection (Npgsql keeps a prepared statement
/// across a pooled connection's close and open). The columns are those of the EF model
/// (<see cref="Data.ApiTokenConfiguration"/>, <see cref="Data.UserConfiguration"/>); the tests that authenticate
/// through HTTP cover both stores, so a model change that breaks this fails them.
/// </summary>
public sealed class TokenLookup : IDisposable
{
    private const string SqliteSql = """
        SELECT t."Id", t."Name", t."ExpiresAt", t."RevokedAt", t."GraceEndsAt",
               u."Id", u."Email", u."Name", u."Role", u."Disabled",
               t."Scopes", t."AllowedIps", u."Kind", t."Hint"
        FROM "api_tokens" AS t
        INNER JOIN "users" AS u ON u."Id" = t."UserId"
        WHERE t."Hash" = $hash
        LIMIT 1
        """;

    private static readonly string PostgresSql = SqliteSql.Replace("$hash", "$1", StringComparison.Ordinal);

    private static readonly int MaxIdle = Math.Max(4, Environment.ProcessorCount * 2);
    private readonly string _connectionString;
    private readonly NpgsqlDataSource? _postgres;
    private readonly ConcurrentBag<Lease> _idle = [];
    private long _lookups;

    public TokenLookup(DotStore store, IServiceProvider services)
    {
        _connectionString = store.ConnectionString;
        _postgres = store.IsPostgres ? services.GetRequiredService<NpgsqlDataSource>() : null;
    }

    /// <summary>How many times the database was asked for a token since start: what the cache saves, made visible.</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    public Task<VerifiedToken?> FindAsync(byte[] hash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _lookups);
        if (_postgres is not null)
        {
            return FindPostgresAsync(_postgres, hash, cancellationToken);
        }

        var lease = _idle.TryTake(out var idle) ? idle : new Lease(_connectionString);
        try
        {
            // Microsoft.Data.Sqlite runs statements synchronously (its async methods wrap the same
            // calls); reading one indexed row from the page cache is faster than a thread hop.
            var found = lease.Find(hash);
            Return(lease);
            return Task.FromResult(found);
        }
        catch
        {
            lease.Dispose(); // a connection in an unknown state is not reused
            throw;
        }
    }

    private static async Task<VerifiedToken?> FindPostgresAsync(NpgsqlDataSource dataSource, byte[] hash, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(PostgresSql, connection);
        command.Parameters.Add(new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = hash });
        await command.PrepareAsync(cancellationToken);
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SingleRow, cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>One row of <see cref="SqliteSql"/>, from either provider's reader.</summary>
    private static VerifiedToken Read(DbDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        Utc(reader, 2),
        Utc(reader, 3),
        Utc(reader, 4),
        reader.GetGuid(5),
        reader.GetString(6),
        reader.GetString(7),
        Roles.TryParse(reader.GetString(8), out var role) ? role : Role.User,
        reader.GetBoolean(9),
        reader.IsDBNull(10) ? null : reader.GetString(10),
        reader.IsDBNull(11) ? null : reader.GetString(11),
        Users.UserKinds.TryParse(reader.GetString(12), out var kind) ? kind : Users.UserKind.Person,
        reader.GetString(13));

    private static DateTime? Utc(DbDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? null : DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);

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

    private sealed class Lease : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _command;
        private readonly SqliteParameter _hash;

        public Lease(string connectionString)
        {
            _connection = new SqliteConnection(connectionString);
            _connection.Open();
            _command = _connection.CreateCommand();
            _command.CommandText = SqliteSql;
            _hash = _command.Parameters.Add("$hash", SqliteType.Blob);
            _command.Prepare();
        }

        public VerifiedToken? Find(byte[] hash)
        {
            _hash.Value = hash;
            using var reader = _command.ExecuteReader();
            return reader.Read() ? Read(reader) : null;
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }
}

using System.Collections.Concurrent;
using Dot.Api.Access;
using Dot.Api.Data;
using Microsoft.Data.Sqlite;

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
    bool Disabled);

/// <summary>
/// Finds a token by its hash for the cache's miss path: one prepared statement on one of a few
/// connections kept open, no DI scope and no DbContext per lookup. The columns are those of the
/// EF model (<see cref="Data.ApiTokenConfiguration"/>, <see cref="Data.UserConfiguration"/>); the
/// tests that authenticate through HTTP cover both, so a model change that breaks this fails them.
/// </summary>
public sealed class TokenLookup(IConfiguration configuration) : IDisposable
{
    private const string Sql = """
        SELECT t."Id", t."Name", t."ExpiresAt", t."RevokedAt", t."GraceEndsAt",
               u."Id", u."Email", u."Name", u."Role", u."Disabled"
        FROM "api_tokens" AS t
        INNER JOIN "users" AS u ON u."Id" = t."UserId"
        WHERE t."Hash" = $hash
        LIMIT 1
        """;

    private static readonly int MaxIdle = Math.Max(4, Environment.ProcessorCount * 2);
    private readonly string _connectionString = DataExtensions.ConnectionString(configuration);
    private readonly ConcurrentBag<Lease> _idle = [];
    private long _lookups;

    /// <summary>How many times the database was asked for a token since start: what the cache saves, made visible.</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    public Task<VerifiedToken?> FindAsync(byte[] hash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _lookups);
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
            _command.CommandText = Sql;
            _hash = _command.Parameters.Add("$hash", SqliteType.Blob);
            _command.Prepare();
        }

        public VerifiedToken? Find(byte[] hash)
        {
            _hash.Value = hash;
            using var reader = _command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            return new VerifiedToken(
                reader.GetGuid(0),
                reader.GetString(1),
                Utc(reader, 2),
                Utc(reader, 3),
                Utc(reader, 4),
                reader.GetGuid(5),
                reader.GetString(6),
                reader.GetString(7),
                Roles.TryParse(reader.GetString(8), out var role) ? role : Role.User,
                reader.GetBoolean(9));
        }

        private static DateTime? Utc(SqliteDataReader reader, int ordinal)
            => reader.IsDBNull(ordinal) ? null : DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }
}

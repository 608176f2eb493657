using System.Data.Common;
using Dot.Api.Access;
using Dot.Api.Data;

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
/// lookup, on either store (<see cref="IStoreProvider.PrepareKeyedRead{T}"/>: on SQLite on one of a few connections
/// kept open, on PostgreSQL on the process's pool, prepared once per physical connection). The columns are those of
/// the EF model (<see cref="Data.ApiTokenConfiguration"/>, <see cref="Data.UserConfiguration"/>); the tests that
/// authenticate through HTTP cover both stores, so a model change that breaks this fails them.
/// </summary>
public sealed class TokenLookup(IStoreProvider store) : IDisposable
{
    private const string Sql = $"""
        SELECT t."Id", t."Name", t."ExpiresAt", t."RevokedAt", t."GraceEndsAt",
               u."Id", u."Email", u."Name", u."Role", u."Disabled",
               t."Scopes", t."AllowedIps", u."Kind", t."Hint"
        FROM "api_tokens" AS t
        INNER JOIN "users" AS u ON u."Id" = t."UserId"
        WHERE t."Hash" = {IStoreProvider.KeyParameter}
        LIMIT 1
        """;

    private readonly IKeyedRead<VerifiedToken> _read = store.PrepareKeyedRead(Sql, Read);
    private long _lookups;

    /// <summary>How many times the database was asked for a token since start: what the cache saves, made visible.</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    public Task<VerifiedToken?> FindAsync(byte[] hash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _lookups);
        return _read.FindAsync(hash, cancellationToken);
    }

    /// <summary>One row of <see cref="Sql"/>.</summary>
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

    public void Dispose() => _read.Dispose();
}

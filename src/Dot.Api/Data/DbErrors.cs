using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Data;

/// <summary>Recognises the database's own verdicts, on SQLite and on PostgreSQL alike.</summary>
public static class DbErrors
{
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;
    private const string PostgresUniqueViolation = "23505";

    /// <summary>Whether a save failed because a unique index or primary key already holds the value.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey,
        DbException db => db.SqlState == PostgresUniqueViolation,
        _ => false,
    };
}

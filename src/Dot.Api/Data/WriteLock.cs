using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

/// <summary>
/// A named lock for a check-then-write that must not interleave with another of its kind ("is another enabled
/// admin left?", "does any user exist yet?"). It is a row: the transaction's first statement upserts it, which
/// on PostgreSQL takes the row's lock until the transaction ends (a second holder waits, then reads what the first
/// committed) and on SQLite takes the database's write lock. The database decides, on either store.
/// </summary>
public sealed class WriteLock
{
    public const int MaxNameLength = 64;

    /// <summary>Changes that may take away an enabled admin: demote, disable, delete.</summary>
    public const string Admins = "admins";

    /// <summary>The first-run setup, allowed only while no user exists.</summary>
    public const string FirstRun = "first_run";

    /// <summary>Creating a token, allowed only while its owner has no active or rotating token of that name.</summary>
    public const string TokenNames = "token_names";

    public required string Name { get; set; }

    /// <summary>How many times the lock was taken: the upsert must change the row to hold its lock.</summary>
    public long Taken { get; set; }
}

internal sealed class WriteLockConfiguration : IEntityTypeConfiguration<WriteLock>
{
    public void Configure(EntityTypeBuilder<WriteLock> builder)
    {
        builder.ToTable("write_locks");
        builder.HasKey(l => l.Name);
        builder.Property(l => l.Name).HasMaxLength(WriteLock.MaxNameLength);
    }
}

public static class WriteLockExtensions
{
    /// <summary>
    /// Takes the lock <paramref name="name"/> in the current transaction (its first statement) until it commits or
    /// rolls back. Use it through <see cref="Transactions.TransactAsync{T}"/>'s <c>lockName</c>.
    /// </summary>
    public static async Task TakeWriteLockAsync(this DotDbContext db, string name, CancellationToken cancellationToken)
        => await db.Database.ExecuteSqlAsync($"""
            INSERT INTO write_locks ("Name", "Taken") VALUES ({name}, 1)
            ON CONFLICT ("Name") DO UPDATE SET "Taken" = write_locks."Taken" + 1
            """, cancellationToken);
}

using Dot.Api.Assets;
using Dot.Api.Audit;
using Dot.Api.Catalog;
using Dot.Api.Connections;
using Dot.Api.History;
using Dot.Api.Sessions;
using Dot.Api.Sync;
using Dot.Api.Tokens;
using Dot.Api.Users;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Dot.Api.Data;

/// <summary>
/// The one model of the store. Each provider has a context type of its own (<c>SqliteDotDbContext</c> in
/// src/Dot.Api.Data.Sqlite, <c>PostgresDotDbContext</c> in src/Dot.Api.Data.Postgres) so that each has its own
/// checked-in migrations and compiled model, generated from this model (EF Core's "migrations with multiple
/// providers", one context type and one migrations assembly per provider). Services ask for
/// <see cref="DotDbContext"/>; <see cref="DataExtensions.AddDotData"/> registers the chosen provider's.
/// </summary>
public abstract class DotDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<User> Users => Set<User>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    /// <summary>Web sessions: the session cookie is good only while its row is live.</summary>
    public DbSet<UserSession> UserSessions => Set<UserSession>();

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    public DbSet<Connection> Connections => Set<Connection>();

    public DbSet<SyncRun> SyncRuns => Set<SyncRun>();

    public DbSet<StoredCatalog> Catalogs => Set<StoredCatalog>();

    public DbSet<StoredSchema> CatalogSchemas => Set<StoredSchema>();

    public DbSet<StoredTable> CatalogTables => Set<StoredTable>();

    public DbSet<StoredColumn> CatalogColumns => Set<StoredColumn>();

    /// <summary>The Data Protection key ring (connection secrets), so every instance reads what another wrote.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<ExternalAsset> ExternalAssets => Set<ExternalAsset>();

    public DbSet<Chat> Chats => Set<Chat>();

    public DbSet<ChatMessage> ChatMessages => Set<ChatMessage>();

    public DbSet<ChatLabel> ChatLabels => Set<ChatLabel>();

    /// <summary>Named locks for check-then-write changes (<see cref="WriteLock"/>).</summary>
    public DbSet<WriteLock> WriteLocks => Set<WriteLock>();

    /// <summary>Verified webhook deliveries and their answers, so a redelivered event is answered, not run, again.</summary>
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    /// <summary>Changes published in the open transaction, applied on this instance when it commits (<see cref="ChangesOnCommit"/>).</summary>
    internal List<ChangeNotice> PendingChanges { get; } = [];

    protected override void OnModelCreating(ModelBuilder modelBuilder)
        => modelBuilder.ApplyConfigurationsFromAssembly(typeof(DotDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every timestamp is UTC; SQLite hands DateTime back as Unspecified, so say so on the way out.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
    }

    /// <summary>
    /// The collation under which text keys are ordered and compared (list order, keyset cursors): binary, by code
    /// unit, whatever collation the database was created with. PostgreSQL's "C" and SQLite's BINARY give the same
    /// order for the text the server keeps. Use it through <c>EF.Functions.Collate(column, db.OrdinalCollation)</c>.
    /// Each provider's context type names its own.
    /// </summary>
    public abstract string OrdinalCollation { get; }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        TruncateTrackedTimestamps();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        TruncateTrackedTimestamps();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    /// <summary>
    /// The entities about to be written get the timestamps the database will hold (<see cref="StoredTime"/>), so an
    /// answer made from them after the save shows what a later read gives back.
    /// </summary>
    private void TruncateTrackedTimestamps()
    {
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified))
            {
                continue;
            }

            foreach (var property in entry.Properties)
            {
                if (property.CurrentValue is DateTime value && StoredTime.Truncate(value) is var stored && stored != value)
                {
                    property.CurrentValue = stored;
                }
            }
        }
    }

    internal sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => StoredTime.Truncate(v),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}

/// <summary>
/// The one rule for timestamps: the store keeps whole microseconds in UTC. PostgreSQL's timestamptz has microseconds and
/// .NET's DateTime 100 ns ticks, so a time is truncated to the microsecond where it goes to the database — the value
/// converter (every parameter and column EF Core writes, on either store), the context's save (the tracked entity an
/// answer is made from) and the few writes that bypass EF Core's model (raw SQL, in-memory pending values shown before
/// they are written) — never rounded, so a truncated time is never later than the clock said. SQLite keeps the same
/// digits, so both stores read back the same value, and a keyset cursor made from a row's time finds that row again.
/// </summary>
public static class StoredTime
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    /// <summary>The UTC time the store keeps for <paramref name="value"/>: whole microseconds, Kind Utc.</summary>
    public static DateTime Truncate(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Utc ? value : value.ToUniversalTime();
        return new DateTime(utc.Ticks - (utc.Ticks % TicksPerMicrosecond), DateTimeKind.Utc);
    }
}

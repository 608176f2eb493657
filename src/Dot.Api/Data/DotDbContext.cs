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
/// The one model of the store. Each provider has a context type of its own (<see cref="Sqlite.SqliteDotDbContext"/>,
/// <see cref="Postgres.PostgresDotDbContext"/>) only so that each has its own checked-in migrations, generated from
/// this model (EF Core's "migrations with multiple providers", one context type per provider). Services ask for
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

    protected override void OnModelCreating(ModelBuilder modelBuilder)
        => modelBuilder.ApplyConfigurationsFromAssembly(typeof(DotDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every timestamp is UTC; SQLite hands DateTime back as Unspecified, so say so on the way out.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}

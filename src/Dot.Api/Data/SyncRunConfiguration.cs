using Dot.Api.Access;
using Dot.Api.Connections;
using Dot.Api.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class SyncRunConfiguration : IEntityTypeConfiguration<SyncRun>
{
    /// <summary>
    /// At most one queued-or-running run per connection, decided by the database: a trigger inserts,
    /// and on a violation of this index joins the run that holds it. Plain SQL, valid on SQLite and PostgreSQL.
    /// </summary>
    public const string ActiveFilter = "\"Status\" IN ('queued', 'running')";

    public void Configure(EntityTypeBuilder<SyncRun> builder)
    {
        builder.ToTable("sync_runs");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.ConnectionType).HasMaxLength(16).IsRequired();
        builder.Property(r => r.ConnectionId).HasMaxLength(ConnectionTypes.MaxIdLength).IsRequired();
        builder.Property(r => r.Status)
            .HasConversion(s => s.ToName(), s => SyncStatuses.Parse(s))
            .HasMaxLength(16)
            .IsRequired();
        builder.Property(r => r.Error).HasMaxLength(SyncRun.MaxErrorLength);
        builder.Property(r => r.ClaimedBy).HasMaxLength(SyncRun.MaxInstanceLength);

        builder.HasIndex(r => new { r.ConnectionType, r.ConnectionId })
            .IsUnique()
            .HasFilter(ActiveFilter)
            .HasDatabaseName("IX_sync_runs_active_per_connection");
        builder.HasIndex(r => new { r.Status, r.RequestedAt });
        builder.HasIndex(r => new { r.ConnectionType, r.ConnectionId, r.RequestedAt });
    }
}

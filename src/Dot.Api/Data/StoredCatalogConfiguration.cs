using Dot.Api.Catalog;
using Dot.Api.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

/// <summary>
/// <c>catalogs</c>: one row per synced connection (which sync, when), the parent of its schemas. Keyed by the
/// connection and cascading from it, so a connection's catalogue cannot outlive it.
/// </summary>
internal sealed class StoredCatalogConfiguration : IEntityTypeConfiguration<StoredCatalog>
{
    public void Configure(EntityTypeBuilder<StoredCatalog> builder)
    {
        builder.ToTable("catalogs");
        builder.HasKey(c => new { c.ConnectionType, c.ConnectionId });
        builder.Property(c => c.ConnectionType).HasMaxLength(16);
        builder.Property(c => c.ConnectionId).HasMaxLength(ConnectionTypes.MaxIdLength);
        builder.HasOne<Connection>().WithMany()
            .HasForeignKey(c => new { c.ConnectionType, c.ConnectionId })
            .OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(c => c.Schemas).WithOne()
            .HasForeignKey(s => new { s.ConnectionType, s.ConnectionId })
            .OnDelete(DeleteBehavior.Cascade);
    }
}

using Dot.Api.Catalog;
using Dot.Api.Connections;
using Dot.Api.Connectors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

/// <summary>
/// <c>catalog_tables</c>: a table or view, unique by name within its schema. The connection's key is repeated on
/// each row so that replacing a catalogue deletes by key, without joins.
/// </summary>
internal sealed class StoredTableConfiguration : IEntityTypeConfiguration<StoredTable>
{
    public void Configure(EntityTypeBuilder<StoredTable> builder)
    {
        builder.ToTable("catalog_tables");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).ValueGeneratedNever();
        builder.Property(t => t.ConnectionType).HasMaxLength(16).IsRequired();
        builder.Property(t => t.ConnectionId).HasMaxLength(ConnectionTypes.MaxIdLength).IsRequired();
        builder.Property(t => t.Name).IsRequired();
        builder.Property(t => t.Kind).HasMaxLength(CatalogKinds.MaxLength).IsRequired();
        builder.HasIndex(t => new { t.SchemaId, t.Name }).IsUnique();
        builder.HasIndex(t => new { t.ConnectionType, t.ConnectionId });
        builder.HasMany(t => t.Columns).WithOne().HasForeignKey(c => c.TableId).OnDelete(DeleteBehavior.Cascade);
    }
}

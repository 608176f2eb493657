using Dot.Api.Catalog;
using Dot.Api.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

/// <summary>
/// <c>catalog_schemas</c>: a schema of a connection's catalogue, unique by (database, name) within it (the
/// <see cref="Connectors.CatalogBuilder"/> also dedupes a null database, which a unique index would let through).
/// </summary>
internal sealed class StoredSchemaConfiguration : IEntityTypeConfiguration<StoredSchema>
{
    public void Configure(EntityTypeBuilder<StoredSchema> builder)
    {
        builder.ToTable("catalog_schemas");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.ConnectionType).HasMaxLength(16).IsRequired();
        builder.Property(s => s.ConnectionId).HasMaxLength(ConnectionTypes.MaxIdLength).IsRequired();
        builder.Property(s => s.Name).IsRequired();
        builder.HasIndex(s => new { s.ConnectionType, s.ConnectionId, s.Name, s.Database }).IsUnique();
        builder.HasMany(s => s.Tables).WithOne().HasForeignKey(t => t.SchemaId).OnDelete(DeleteBehavior.Cascade);
    }
}

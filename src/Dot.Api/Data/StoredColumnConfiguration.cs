using Dot.Api.Catalog;
using Dot.Api.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

/// <summary><c>catalog_columns</c>: a column of a catalogue table; the connection's key repeated, as on tables.</summary>
internal sealed class StoredColumnConfiguration : IEntityTypeConfiguration<StoredColumn>
{
    public void Configure(EntityTypeBuilder<StoredColumn> builder)
    {
        builder.ToTable("catalog_columns");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.ConnectionType).HasMaxLength(16).IsRequired();
        builder.Property(c => c.ConnectionId).HasMaxLength(ConnectionTypes.MaxIdLength).IsRequired();
        builder.Property(c => c.Name).IsRequired();
        builder.HasIndex(c => c.TableId);
        builder.HasIndex(c => new { c.ConnectionType, c.ConnectionId });
    }
}

using Dot.Api.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class ConnectionConfiguration : IEntityTypeConfiguration<Connection>
{
    public void Configure(EntityTypeBuilder<Connection> builder)
    {
        builder.ToTable("connections");
        builder.HasKey(c => new { c.Type, c.Id });
        builder.Ignore(c => c.Key);
        builder.Property(c => c.Type).HasMaxLength(16).IsRequired();
        builder.Property(c => c.Id).HasMaxLength(ConnectionTypes.MaxIdLength).IsRequired();
        builder.Property(c => c.Name).HasMaxLength(Connection.MaxNameLength).IsRequired();
        builder.Property(c => c.Settings).IsRequired();
        builder.Property(c => c.SecretNames).IsRequired();
        builder.Property(c => c.Secrets);
    }
}

using Dot.Api.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.ToTable("api_tokens");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Name).HasMaxLength(ApiToken.MaxNameLength).IsRequired();
        builder.Property(t => t.Description).HasMaxLength(ApiToken.MaxDescriptionLength);
        builder.Property(t => t.Hash).HasMaxLength(32).IsRequired();
        builder.HasIndex(t => t.Hash).IsUnique();
        builder.Property(t => t.Hint).HasMaxLength(16).IsRequired();
        builder.Property(t => t.LastUsedIp).HasMaxLength(64);
        builder.Property(t => t.LastUsedVia).HasMaxLength(16);
        builder.Property(t => t.Scopes).HasMaxLength(Access.Scopes.MaxStoredLength);
        builder.Property(t => t.AllowedIps).HasMaxLength(Tokens.AllowedIps.MaxStoredLength);
        builder.HasIndex(t => new { t.UserId, t.CreatedAt });
        builder.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

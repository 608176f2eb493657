using Dot.Api.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.ToTable("audit_events");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Type).HasMaxLength(40).IsRequired();
        builder.Property(e => e.Target).HasMaxLength(200);
        builder.Property(e => e.ActorTokenHint).HasMaxLength(16);
        builder.Property(e => e.Address).HasMaxLength(64);
        builder.Property(e => e.Detail).HasMaxLength(500);
        builder.HasIndex(e => new { e.OccurredAt, e.Id });
        builder.HasIndex(e => new { e.Type, e.OccurredAt });
        builder.HasIndex(e => new { e.SubjectUserId, e.OccurredAt });
        builder.HasIndex(e => new { e.ActorId, e.OccurredAt });
    }
}

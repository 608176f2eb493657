using Dot.Api.Connections;
using Dot.Api.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    /// <summary>
    /// The key is (connection type, connection id, event id): a delivery claims its event with
    /// <c>INSERT … ON CONFLICT DO NOTHING</c>, so two identical deliveries at once make one answer and one run.
    /// </summary>
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.HasKey(d => new { d.ConnectionType, d.ConnectionId, d.EventId });
        builder.Property(d => d.ConnectionType).HasMaxLength(16);
        builder.Property(d => d.ConnectionId).HasMaxLength(ConnectionTypes.MaxIdLength);
        builder.Property(d => d.EventId).HasMaxLength(WebhookDelivery.MaxEventIdLength);
        builder.Property(d => d.Outcome).HasMaxLength(16).IsRequired();
        builder.Property(d => d.RunStatus).HasMaxLength(16);
        builder.Property(d => d.Reason).HasMaxLength(WebhookDelivery.MaxReasonLength);
        builder.HasIndex(d => d.ReceivedAt);
    }
}

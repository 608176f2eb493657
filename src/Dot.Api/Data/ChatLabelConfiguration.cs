using Dot.Api.History;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class ChatLabelConfiguration : IEntityTypeConfiguration<ChatLabel>
{
    public void Configure(EntityTypeBuilder<ChatLabel> builder)
    {
        builder.ToTable("chat_labels");
        builder.HasKey(l => new { l.ChatId, l.Label });
        builder.Property(l => l.Label).HasMaxLength(ChatLabel.MaxLength);
    }
}

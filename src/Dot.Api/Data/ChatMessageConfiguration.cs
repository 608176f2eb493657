using Dot.Api.History;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class ChatMessageConfiguration : IEntityTypeConfiguration<ChatMessage>
{
    public void Configure(EntityTypeBuilder<ChatMessage> builder)
    {
        builder.ToTable("chat_messages");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Role).HasMaxLength(16).IsRequired();
        builder.Property(m => m.Content).HasMaxLength(ChatMessage.MaxContentLength).IsRequired();

        // The history export reads "chat X's messages in [start, end), in order": a range scan of this
        // index per chat, already in output order, so nothing is sorted. It also serves a chat's page.
        builder.HasIndex(m => new { m.ChatId, m.CreatedAt, m.Id });
    }
}

using Dot.Api.History;
using Dot.Api.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class ChatConfiguration : IEntityTypeConfiguration<Chat>
{
    public void Configure(EntityTypeBuilder<Chat> builder)
    {
        builder.ToTable("chats");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Title).HasMaxLength(Chat.MaxTitleLength).IsRequired();
        builder.Property(c => c.AuthorEmail).HasMaxLength(User.MaxEmailLength).IsRequired();
        builder.HasIndex(c => new { c.AuthorId, c.CreatedAt });

        // Deleting a user keeps their conversations in the history (author_email stays).
        builder.HasOne<User>().WithMany().HasForeignKey(c => c.AuthorId).OnDelete(DeleteBehavior.SetNull);
        builder.HasMany(c => c.Messages).WithOne().HasForeignKey(m => m.ChatId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(c => c.Labels).WithOne().HasForeignKey(l => l.ChatId).OnDelete(DeleteBehavior.Cascade);
    }
}

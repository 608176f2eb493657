using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Data;
using Dot.Api.Validation;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.History;

/// <summary>Recording conversations, their messages and labels, and who may touch which chat.</summary>
public sealed class ChatService(DotDbContext db, TimeProvider time)
{
    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>The author, admins and modelers may read and label a chat.</summary>
    public static bool CanRead(ClaimsPrincipal caller, Chat chat)
        => chat.AuthorId == caller.UserId() || caller.Role() is Role.Admin or Role.Modeler;

    /// <summary>Only the author and admins may add messages to a chat.</summary>
    public static bool CanPost(ClaimsPrincipal caller, Chat chat)
        => chat.AuthorId == caller.UserId() || caller.IsAdmin();

    public static string? ValidateTitle(string? title, FieldErrors errors)
    {
        var trimmed = title?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            errors.Add("title", "title is required.");
        }
        else if (trimmed.Length > Chat.MaxTitleLength)
        {
            errors.Add("title", $"title must be at most {Chat.MaxTitleLength} characters.");
        }

        return trimmed;
    }

    public static void ValidateMessage(PostMessageRequest request, FieldErrors errors)
    {
        if (!MessageRoles.IsValid(request.Role))
        {
            errors.Add("role", $"role must be {MessageRoles.User} or {MessageRoles.Assistant}.");
        }

        if (string.IsNullOrEmpty(request.Content))
        {
            errors.Add("content", "content is required.");
        }
        else if (request.Content.Length > ChatMessage.MaxContentLength)
        {
            errors.Add("content", $"content must be at most {ChatMessage.MaxContentLength} characters.");
        }
    }

    /// <summary>
    /// Trims and de-duplicates labels. A label is 1–100 characters without control characters or
    /// ';' (the CSV export joins a chat's labels with ';', and must be able to split them again).
    /// </summary>
    public static List<string> ValidateLabels(List<string?>? labels, FieldErrors errors)
    {
        var result = new List<string>();
        if (labels is null || labels.Count == 0)
        {
            errors.Add("labels", "labels must name at least one label.");
            return result;
        }

        if (labels.Count > ChatLabel.MaxPerChat)
        {
            errors.Add("labels", $"A chat has at most {ChatLabel.MaxPerChat} labels.");
            return result;
        }

        for (var i = 0; i < labels.Count; i++)
        {
            var label = labels[i]?.Trim();
            if (string.IsNullOrEmpty(label) || label.Length > ChatLabel.MaxLength
                || label.Any(c => char.IsControl(c) || c == ';'))
            {
                errors.Add($"labels[{i}]", $"A label is 1 to {ChatLabel.MaxLength} characters, without ';' or control characters.");
            }
            else if (!result.Contains(label, StringComparer.Ordinal))
            {
                result.Add(label);
            }
        }

        return result;
    }

    public async Task<Chat> CreateAsync(Guid authorId, string authorEmail, string title, CancellationToken cancellationToken)
    {
        var chat = new Chat
        {
            Id = Guid.CreateVersion7(),
            Title = title,
            AuthorId = authorId,
            AuthorEmail = authorEmail,
            CreatedAt = Now,
        };
        db.Chats.Add(chat);
        await db.SaveChangesAsync(cancellationToken);
        return chat;
    }

    public Task<Chat?> FindAsync(Guid id, CancellationToken cancellationToken)
        => db.Chats.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, cancellationToken);

    /// <summary>The chat with its labels and messages (oldest first).</summary>
    public Task<Chat?> FindWithContentAsync(Guid id, CancellationToken cancellationToken)
        => db.Chats.AsNoTracking().AsSplitQuery()
            .Include(c => c.Labels)
            .Include(c => c.Messages.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id))
            .FirstOrDefaultAsync(c => c.Id == id, cancellationToken);

    public async Task<ChatMessage> AddMessageAsync(Guid chatId, string role, string content, CancellationToken cancellationToken)
    {
        var message = new ChatMessage
        {
            Id = Guid.CreateVersion7(),
            ChatId = chatId,
            Role = role,
            Content = content,
            CreatedAt = Now,
        };
        db.ChatMessages.Add(message);
        await db.SaveChangesAsync(cancellationToken);
        return message;
    }

    /// <summary>
    /// Adds the labels the chat does not have yet; the chat's labels afterwards, or null when that
    /// would make more than <see cref="ChatLabel.MaxPerChat"/>. The transaction first writes the chat's row
    /// (a no-op update), which locks it — the row on PostgreSQL, the database on SQLite — so concurrent calls
    /// for one chat take turns: they neither collide on the key nor overshoot the limit together.
    /// </summary>
    public async Task<List<string>?> AddLabelsAsync(Guid chatId, IReadOnlyList<string> labels, CancellationToken cancellationToken)
    {
        return await db.TransactAsync(async (transaction, ct) =>
        {
            await db.Chats.Where(c => c.Id == chatId).ExecuteUpdateAsync(set => set.SetProperty(c => c.Title, c => c.Title), ct);
            var existing = await LabelsAsync(chatId, ct);
            var added = labels.Where(l => !existing.Contains(l, StringComparer.Ordinal)).ToList();
            if (existing.Count + added.Count > ChatLabel.MaxPerChat)
            {
                return null;
            }

            if (added.Count > 0)
            {
                var now = Now;
                db.ChatLabels.AddRange(added.Select(l => new ChatLabel { ChatId = chatId, Label = l, CreatedAt = now }));
                await db.SaveChangesAsync(ct);
                await transaction.CommitAsync(ct);
            }

            return existing.Concat(added).Order(StringComparer.Ordinal).ToList();
        }, cancellationToken);
    }

    private Task<List<string>> LabelsAsync(Guid chatId, CancellationToken cancellationToken)
        => db.ChatLabels.AsNoTracking().Where(l => l.ChatId == chatId).Select(l => l.Label).ToListAsync(cancellationToken);
}

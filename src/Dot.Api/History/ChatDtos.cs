namespace Dot.Api.History;

public sealed record CreateChatRequest(string? Title);

public sealed record ChatDto(Guid ChatId, string Title, string AuthorEmail, DateTime CreatedAt);

public sealed record PostMessageRequest(string? Role, string? Content);

public sealed record MessageDto(Guid MessageId, Guid ChatId, string Role, string Content, DateTime CreatedAt);

/// <summary>A chat with its labels and all its messages, oldest first.</summary>
public sealed record ChatDetailDto(
    Guid ChatId,
    string Title,
    string AuthorEmail,
    DateTime CreatedAt,
    DateTime? LastMessageAt,
    int MessageCount,
    IReadOnlyList<string> Labels,
    IReadOnlyList<MessageDto> Messages);

public sealed record AddLabelsRequest(Guid? ChatId, List<string?>? Labels);

/// <summary>All the chat's labels after the change, in ordinal order.</summary>
public sealed record ChatLabelsDto(Guid ChatId, IReadOnlyList<string> Labels);

internal static class ChatMapping
{
    public static ChatDto ToDto(this Chat c) => new(c.Id, c.Title, c.AuthorEmail, c.CreatedAt);

    public static MessageDto ToDto(this ChatMessage m) => new(m.Id, m.ChatId, m.Role, m.Content, m.CreatedAt);

    public static ChatDetailDto ToDetailDto(this Chat c) => new(
        c.Id, c.Title, c.AuthorEmail, c.CreatedAt,
        c.Messages.Count == 0 ? null : c.Messages.Max(m => m.CreatedAt),
        c.Messages.Count,
        c.Labels.Select(l => l.Label).Order(StringComparer.Ordinal).ToList(),
        c.Messages.Select(m => m.ToDto()).ToList());
}

namespace Dot.Api.History;

/// <summary>One label of a chat. (chat, label) is the key: a chat's labels are a set.</summary>
public sealed class ChatLabel
{
    public const int MaxLength = 100;
    public const int MaxPerChat = 50;

    public Guid ChatId { get; set; }

    public required string Label { get; set; }

    public DateTime CreatedAt { get; set; }
}

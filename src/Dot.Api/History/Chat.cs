namespace Dot.Api.History;

/// <summary>A recorded conversation with Dot.</summary>
public sealed class Chat
{
    public const int MaxTitleLength = 200;

    public Guid Id { get; set; }

    public required string Title { get; set; }

    /// <summary>The author; null once that user is deleted (the conversation stays in the history).</summary>
    public Guid? AuthorId { get; set; }

    /// <summary>The author's email when the chat was created, so the history outlives the account.</summary>
    public required string AuthorEmail { get; set; }

    public DateTime CreatedAt { get; set; }

    public List<ChatMessage> Messages { get; set; } = [];

    public List<ChatLabel> Labels { get; set; } = [];
}

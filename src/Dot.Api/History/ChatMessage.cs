namespace Dot.Api.History;

public sealed class ChatMessage
{
    public const int MaxContentLength = 100_000;

    public Guid Id { get; set; }

    public Guid ChatId { get; set; }

    /// <summary><see cref="MessageRoles.User"/> or <see cref="MessageRoles.Assistant"/>.</summary>
    public required string Role { get; set; }

    public required string Content { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>Who said it: the wire and stored values.</summary>
public static class MessageRoles
{
    public const string User = "user";
    public const string Assistant = "assistant";

    public static bool IsValid(string? role) => role is User or Assistant;
}

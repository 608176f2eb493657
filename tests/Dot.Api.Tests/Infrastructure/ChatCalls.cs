using System.Net;
using System.Net.Http.Json;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>The conversation calls as one-liners, for tests that need a few chats to work on.</summary>
public static class ChatCalls
{
    public static async Task<Guid> CreateChatAsync(this HttpClient client, string title = "Revenue questions")
    {
        var response = await client.PostAsJsonAsync("/api/chats", new { title });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("chat_id").GetGuid();
    }

    public static Task<HttpResponseMessage> PostMessageAsync(this HttpClient client, Guid chatId, string role, string content)
        => client.PostAsJsonAsync($"/api/chats/{chatId}/messages", new { role, content });

    /// <summary>Posts a message and checks it was recorded.</summary>
    public static async Task<Guid> SayAsync(this HttpClient client, Guid chatId, string role, string content)
    {
        var response = await client.PostMessageAsync(chatId, role, content);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("message_id").GetGuid();
    }

    public static Task<HttpResponseMessage> LabelAsync(this HttpClient client, Guid chatId, params string[] labels)
        => client.PostAsJsonAsync("/api/add_label_to_chat", new { chat_id = chatId, labels });
}

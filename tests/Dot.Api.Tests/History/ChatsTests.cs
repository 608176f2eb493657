using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>Conversations, messages and labels, and who may touch which chat.</summary>
public sealed class ChatsTests
{
    private static async Task<string[]> LabelsOfAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.JsonAsync()).GetProperty("labels").EnumerateArray().Select(l => l.GetString()!)];
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task CreateChatAnswers201WithTheCallerAsAuthor()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("ada@example.com");

        var response = await client.PostAsJsonAsync("/api/chats", new { title = "  Churn by region  " });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var chat = await response.JsonAsync();
        var id = chat.GetProperty("chat_id").GetGuid();
        Assert.Equal($"/api/chats/{id}", response.Headers.Location?.ToString());
        Assert.Equal("Churn by region", chat.GetProperty("title").GetString());
        Assert.Equal("ada@example.com", chat.GetProperty("author_email").GetString());
        Assert.Equal("2026-01-15T12:00:00Z", chat.GetProperty("created_at").GetString());
    }

    [Fact]
    public async Task MessagesAreRecordedAndReadBackInOrder()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("ada@example.com");
        var chatId = await client.CreateChatAsync();

        var first = await client.PostMessageAsync(chatId, "user", "What was revenue in Q4?");
        factory.Time.Advance(TimeSpan.FromSeconds(5));
        var second = await client.PostMessageAsync(chatId, "assistant", "Revenue in Q4 was 1.2M.");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var message = await first.JsonAsync();
        Assert.Equal(chatId, message.GetProperty("chat_id").GetGuid());
        Assert.Equal("user", message.GetProperty("role").GetString());
        Assert.Equal("What was revenue in Q4?", message.GetProperty("content").GetString());
        Assert.Equal("2026-01-15T12:00:00Z", message.GetProperty("created_at").GetString());
        Assert.NotEqual(Guid.Empty, message.GetProperty("message_id").GetGuid());
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);

        var chat = await (await client.GetAsync($"/api/chats/{chatId}")).JsonAsync();
        Assert.Equal("Revenue questions", chat.GetProperty("title").GetString());
        Assert.Equal(2, chat.GetProperty("message_count").GetInt32());
        Assert.Equal("2026-01-15T12:00:05Z", chat.GetProperty("last_message_at").GetString());
        Assert.Empty(chat.GetProperty("labels").EnumerateArray());
        Assert.Equal(["user", "assistant"], chat.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
    }

    [Theory]
    [InlineData("""{}""", "title")]
    [InlineData("""{"title": "   "}""", "title")]
    [InlineData("""{"title": 42}""", "title")]
    public async Task InvalidChatAnswers422ByField(string json, string field)
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("ada@example.com");

        await AssertInvalidAsync(await client.PostAsync("/api/chats", Json(json)), field);
        await AssertInvalidAsync(await client.PostAsJsonAsync("/api/chats", new { title = new string('t', 201) }), "title");
    }

    [Theory]
    [InlineData("""{"role": "system", "content": "hi"}""", "role")]
    [InlineData("""{"content": "hi"}""", "role")]
    [InlineData("""{"role": "user", "content": ""}""", "content")]
    [InlineData("""{"role": "user"}""", "content")]
    [InlineData("""{"role": "user", "content": 5}""", "content")]
    public async Task InvalidMessageAnswers422ByField(string json, string field)
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("ada@example.com");
        var chatId = await client.CreateChatAsync();

        await AssertInvalidAsync(await client.PostAsync($"/api/chats/{chatId}/messages", Json(json)), field);
    }

    [Theory]
    [InlineData("""{"labels": ["a"]}""", "chat_id")]
    [InlineData("""{"chat_id": "not-a-guid", "labels": ["a"]}""", "chat_id")]
    [InlineData("""{"chat_id": "CHAT"}""", "labels")]
    [InlineData("""{"chat_id": "CHAT", "labels": []}""", "labels")]
    [InlineData("""{"chat_id": "CHAT", "labels": ["ok", "  "]}""", "labels[1]")]
    [InlineData("""{"chat_id": "CHAT", "labels": ["a;b"]}""", "labels[0]")]
    [InlineData("""{"chat_id": "CHAT", "labels": [null]}""", "labels[0]")]
    [InlineData("""{"chat_id": "CHAT", "labels": "a"}""", "labels")]
    public async Task InvalidLabelsAnswer422ByField(string json, string field)
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("ada@example.com");
        var chatId = await client.CreateChatAsync();

        await AssertInvalidAsync(await client.PostAsync("/api/add_label_to_chat", Json(json.Replace("CHAT", chatId.ToString()))), field);
        await AssertInvalidAsync(await client.LabelAsync(chatId, new string('l', 101)), "labels[0]");
    }

    [Fact]
    public async Task LabelsAreASet()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("ada@example.com");
        var chatId = await client.CreateChatAsync();

        Assert.Equal(["finance", "q4"], await LabelsOfAsync(await client.LabelAsync(chatId, "q4", "finance")));
        Assert.Equal(["finance", "q4", "revenue"], await LabelsOfAsync(await client.LabelAsync(chatId, " finance ", "revenue", "revenue", "q4")));
        Assert.Equal(["finance", "q4", "revenue"], await LabelsOfAsync(await client.LabelAsync(chatId, "q4")));

        var chat = await (await client.GetAsync($"/api/chats/{chatId}")).JsonAsync();
        Assert.Equal(["finance", "q4", "revenue"], chat.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
    }

    [Fact]
    public async Task AChatHasAtMostFiftyLabels()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("ada@example.com");
        var chatId = await client.CreateChatAsync();
        string[] Labels(int from, int count) => [.. Enumerable.Range(from, count).Select(i => $"label-{i:D2}")];

        Assert.Equal(30, (await LabelsOfAsync(await client.LabelAsync(chatId, Labels(0, 30)))).Length);
        await AssertInvalidAsync(await client.LabelAsync(chatId, Labels(20, 31)), "labels"); // 21 new: 51 in all
        Assert.Equal(50, (await LabelsOfAsync(await client.LabelAsync(chatId, Labels(10, 40)))).Length);
        await AssertInvalidAsync(await client.LabelAsync(chatId, Labels(0, 51)), "labels");
        Assert.Equal(50, (await LabelsOfAsync(await client.LabelAsync(chatId, "label-00"))).Length);
    }

    [Fact]
    public async Task AUserCannotTellAnotherUsersChatFromNoChat()
    {
        await using var factory = new DotApiFactory();
        var (_, _, owner) = await factory.CreateCallerAsync("owner@example.com");
        var (_, _, stranger) = await factory.CreateCallerAsync("stranger@example.com");
        var chatId = await owner.CreateChatAsync();
        await owner.SayAsync(chatId, "user", "private question");

        foreach (var id in new[] { chatId, Guid.NewGuid() })
        {
            var responses = new[]
            {
                await stranger.GetAsync($"/api/chats/{id}"),
                await stranger.PostMessageAsync(id, "user", "hello"),
                await stranger.LabelAsync(id, "mine"),
            };
            foreach (var response in responses)
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                Assert.Equal("No chat with that id.", (await response.JsonAsync()).GetProperty("detail").GetString());
            }
        }

        var chat = await (await owner.GetAsync($"/api/chats/{chatId}")).JsonAsync();
        Assert.Equal(1, chat.GetProperty("message_count").GetInt32());
        Assert.Empty(chat.GetProperty("labels").EnumerateArray());
    }

    [Fact]
    public async Task ModelersAndAdminsReadAndLabelEveryChatButOnlyAdminsPostToOthers()
    {
        await using var factory = new DotApiFactory();
        var (_, _, owner) = await factory.CreateCallerAsync("owner@example.com");
        var (_, _, modeler) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var chatId = await owner.CreateChatAsync();
        await owner.SayAsync(chatId, "user", "question");

        Assert.Equal(HttpStatusCode.OK, (await modeler.GetAsync($"/api/chats/{chatId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/chats/{chatId}")).StatusCode);
        Assert.Equal(["reviewed"], await LabelsOfAsync(await modeler.LabelAsync(chatId, "reviewed")));
        Assert.Equal(["escalated", "reviewed"], await LabelsOfAsync(await admin.LabelAsync(chatId, "escalated")));

        var byModeler = await modeler.PostMessageAsync(chatId, "assistant", "modeler answer");
        Assert.Equal(HttpStatusCode.Forbidden, byModeler.StatusCode);
        Assert.Equal("application/problem+json", byModeler.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostMessageAsync(chatId, "assistant", "admin answer")).StatusCode);

        var modelersOwn = await modeler.CreateChatAsync();
        Assert.Equal(HttpStatusCode.Created, (await modeler.PostMessageAsync(modelersOwn, "user", "mine")).StatusCode);

        var chat = await (await owner.GetAsync($"/api/chats/{chatId}")).JsonAsync();
        Assert.Equal(["question", "admin answer"], chat.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
    }

    [Fact]
    public async Task DeletingTheAuthorKeepsTheChat()
    {
        await using var factory = new DotApiFactory();
        var (author, _, client) = await factory.CreateCallerAsync("leaver@example.com");
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var chatId = await client.CreateChatAsync();
        await client.SayAsync(chatId, "user", "before I leave");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/users/{author.Id}")).StatusCode);

        var chat = await (await admin.GetAsync($"/api/chats/{chatId}")).JsonAsync();
        Assert.Equal("leaver@example.com", chat.GetProperty("author_email").GetString());
        Assert.Equal(1, chat.GetProperty("message_count").GetInt32());
    }

    [Fact]
    public async Task QueryTokenIsRefusedOnChats()
    {
        await using var factory = new DotApiFactory();
        var (user, token, client) = await factory.CreateCallerAsync("ada@example.com", Role.Admin);
        var chatId = await client.CreateChatAsync();

        var response = await factory.CreateClient().GetAsync($"/api/chats/{chatId}?{QueryToken.For(user, token, "email")}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("query_token_not_allowed", (await response.JsonAsync()).GetProperty("reason").GetString());
    }

    private static async Task AssertInvalidAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages) && messages.ValueKind == JsonValueKind.Array,
            $"expected an error for {field}: {errors}");
    }
}

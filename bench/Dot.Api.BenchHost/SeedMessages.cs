using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Dot.Api.BenchHost;

/// <summary>
/// <c>seed-messages --count N [--per-chat M] [--connection CS]</c>: adds N chat messages, in chats
/// of M (default 200), straight into SQLite in batched transactions, all within the last day, so
/// the export can be timed on a million messages. The schema is the product's (its migrations).
/// </summary>
internal static class SeedMessages
{
    private const int ChatsPerBatch = 1_000;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var parsed = BenchArguments.Parse("seed-messages", args, "count", "per-chat", "connection");
            var count = parsed.Count("count", 0);
            var perChat = parsed.Count("per-chat", 200);
            var connectionString = BenchDatabase.ConnectionString(parsed.Optional("connection"));
            var watch = Stopwatch.StartNew();
            var total = await SeedAsync(connectionString, count, perChat);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seeded {count} messages in {watch.Elapsed.TotalSeconds:F1} s; chat_messages now has {total} rows"));
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or SqliteException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return ex is ArgumentException ? 2 : 1;
        }
    }

    private static async Task<long> SeedAsync(string connectionString, int count, int perChat)
    {
        await using var connection = await BenchDatabase.OpenForSeedingAsync(connectionString);

        // Inside the export's default window: the last day.
        var created = DateTime.UtcNow.AddHours(-20);
        for (var done = 0; done < count;)
        {
            var chats = Math.Min(ChatsPerBatch, (count - done + perChat - 1) / perChat);
            var messages = Math.Min(count - done, chats * perChat);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
            var before = await BenchDatabase.ScalarAsync(connection, transaction, "SELECT IFNULL(MAX(rowid), 0) FROM chats");
            await using (var insertChats = connection.CreateCommand())
            {
                insertChats.Transaction = transaction;
                insertChats.CommandText = """
                    WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $chats),
                         ids(n, g) AS (SELECT n, hex(randomblob(16)) FROM seq)
                    INSERT INTO chats (Id, Title, AuthorId, AuthorEmail, CreatedAt)
                    SELECT substr(g, 1, 8) || '-' || substr(g, 9, 4) || '-' || substr(g, 13, 4) || '-' || substr(g, 17, 4) || '-' || substr(g, 21, 12),
                           'Bench chat ' || ($offset + n), NULL, 'bench@example.com', $created
                    FROM ids
                    """;
                insertChats.Parameters.AddWithValue("$chats", chats);
                insertChats.Parameters.AddWithValue("$offset", done / perChat);
                insertChats.Parameters.AddWithValue("$created", created);
                await insertChats.ExecuteNonQueryAsync();
            }

            await using (var insertMessages = connection.CreateCommand())
            {
                insertMessages.Transaction = transaction;
                insertMessages.CommandText = """
                    WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < $perChat),
                         rows(chat, n, g) AS (SELECT c.Id, k.n, hex(randomblob(16)) FROM chats AS c, k WHERE c.rowid > $before)
                    INSERT INTO chat_messages (Id, ChatId, Role, Content, CreatedAt)
                    SELECT substr(g, 1, 8) || '-' || substr(g, 9, 4) || '-' || substr(g, 13, 4) || '-' || substr(g, 17, 4) || '-' || substr(g, 21, 12),
                           chat, CASE n % 2 WHEN 1 THEN 'user' ELSE 'assistant' END,
                           'Message ' || n || ': revenue by region, "quoted", with a comma; and a newline' || char(10) || 'second line.',
                           strftime('%Y-%m-%d %H:%M:%f', $created, '+' || n || ' seconds')
                    FROM rows
                    LIMIT $messages
                    """;
                insertMessages.Parameters.AddWithValue("$perChat", perChat);
                insertMessages.Parameters.AddWithValue("$before", before);
                insertMessages.Parameters.AddWithValue("$created", created);
                insertMessages.Parameters.AddWithValue("$messages", messages);
                await insertMessages.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
            done += messages;
        }

        await BenchDatabase.CheckpointAsync(connection);
        return await BenchDatabase.ScalarAsync(connection, null, "SELECT COUNT(*) FROM chat_messages");
    }
}

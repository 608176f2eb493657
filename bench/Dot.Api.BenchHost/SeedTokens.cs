using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Dot.Api.BenchHost;

/// <summary>
/// <c>seed-tokens --count N [--email E] [--connection CS]</c>: adds N tokens with random hashes
/// (no plaintext exists for them) straight into SQLite, in batched transactions, so the miss path
/// can be measured against a table of a million rows. The owner is the user with that email, else
/// the oldest user; the connection string is <c>ConnectionStrings__Dot</c>'s, as the server's.
/// </summary>
internal static class SeedTokens
{
    private const int BatchSize = 50_000;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var parsed = BenchArguments.Parse("seed-tokens", args, "count", "email", "connection");
            var count = parsed.Count("count", 0);
            var connectionString = BenchDatabase.ConnectionString(parsed.Optional("connection"));
            var (added, total, elapsed) = await SeedAsync(connectionString, count, parsed.Optional("email"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seeded {added} tokens in {elapsed.TotalSeconds:F1} s; api_tokens now has {total} rows"));
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or SqliteException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return ex is ArgumentException ? 2 : 1;
        }
    }

    public static async Task<(int Added, long Total, TimeSpan Elapsed)> SeedAsync(string connectionString, int count, string? email)
    {
        var watch = Stopwatch.StartNew();

        await using var connection = await BenchDatabase.OpenForSeedingAsync(connectionString);
        var owner = await OwnerAsync(connection, email);

        // Generated inside SQLite (randomblob), a batch per statement and transaction: a million rows in seconds.
        // Ids look like EF Core's (upper-case GUID text); no plaintext exists for any of these hashes.
        var now = DateTime.UtcNow;
        for (var done = 0; done < count;)
        {
            var batch = Math.Min(BatchSize, count - done);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $batch),
                     ids(n, g) AS (SELECT n, hex(randomblob(16)) FROM seq)
                INSERT INTO api_tokens (Id, UserId, Name, Hash, Hint, CreatedAt)
                SELECT substr(g, 1, 8) || '-' || substr(g, 9, 4) || '-' || substr(g, 13, 4) || '-' || substr(g, 17, 4) || '-' || substr(g, 21, 12),
                       $user, 'seed-' || ($offset + n), randomblob(32), 'dot-' || lower(hex(randomblob(3))), $created
                FROM ids
                """;
            insert.Parameters.AddWithValue("$batch", batch);
            insert.Parameters.AddWithValue("$offset", done);
            insert.Parameters.AddWithValue("$user", owner);
            insert.Parameters.AddWithValue("$created", now);
            await insert.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
            done += batch;
        }

        await BenchDatabase.CheckpointAsync(connection);
        var total = await BenchDatabase.ScalarAsync(connection, null, "SELECT COUNT(*) FROM api_tokens");
        return (count, total, watch.Elapsed);
    }

    private static async Task<string> OwnerAsync(SqliteConnection connection, string? email)
    {
        await using var command = connection.CreateCommand();
        if (email is null)
        {
            command.CommandText = "SELECT Id FROM users ORDER BY CreatedAt LIMIT 1";
        }
        else
        {
            command.CommandText = "SELECT Id FROM users WHERE NormalizedEmail = $email";
            command.Parameters.AddWithValue("$email", email.Trim().ToLowerInvariant());
        }

        return await command.ExecuteScalarAsync() as string
            ?? throw new InvalidOperationException(email is null
                ? "no user to own the tokens: run `users add` first."
                : $"no user with email {email}.");
    }
}

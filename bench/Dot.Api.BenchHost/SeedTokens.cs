using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Dot.Api.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

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
            var connectionString = parsed.Optional("connection")
                ?? Environment.GetEnvironmentVariable("ConnectionStrings__Dot")
                ?? DataExtensions.DefaultConnectionString;
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

        // The schema is the product's: apply its migrations, as the server does at start.
        await using (var db = new DotDbContext(new DbContextOptionsBuilder<DotDbContext>().UseSqlite(connectionString).Options))
        {
            await db.Database.MigrateAsync();
        }

        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-200000;");
        var owner = await OwnerAsync(connection, email);

        var hash = new byte[32];
        var now = DateTime.UtcNow;
        for (var done = 0; done < count;)
        {
            var batch = Math.Min(BatchSize, count - done);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO api_tokens (Id, UserId, Name, Hash, Hint, CreatedAt)
                VALUES ($id, $user, $name, $hash, $hint, $created)
                """;
            var id = insert.Parameters.Add("$id", SqliteType.Text);
            insert.Parameters.AddWithValue("$user", owner);
            var name = insert.Parameters.Add("$name", SqliteType.Text);
            var hashParameter = insert.Parameters.Add("$hash", SqliteType.Blob);
            var hint = insert.Parameters.Add("$hint", SqliteType.Text);
            insert.Parameters.AddWithValue("$created", now);
            await insert.PrepareAsync();
            for (var i = 0; i < batch; i++)
            {
                RandomNumberGenerator.Fill(hash);
                id.Value = Guid.CreateVersion7().ToString().ToUpperInvariant(); // as EF Core stores a Guid in SQLite
                name.Value = string.Create(CultureInfo.InvariantCulture, $"seed-{done + i}");
                hashParameter.Value = hash;
                hint.Value = "dot-" + Convert.ToHexStringLower(hash, 0, 3);
                await insert.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
            done += batch;
        }

        // Fold the WAL back into the database file, so the server reads the table as it would a settled one.
        await ExecuteAsync(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        await using var countCommand = connection.CreateCommand();
        countCommand.CommandText = "SELECT COUNT(*) FROM api_tokens";
        var total = (long)(await countCommand.ExecuteScalarAsync())!;
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

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}

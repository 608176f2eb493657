using System.Diagnostics;
using System.Text;
using Npgsql;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// Everything a factory's store keeps, to look for a secret in. On SQLite: every file of the factory's directory (the
/// database, its write-ahead log), byte for byte. On PostgreSQL: every column of every table of the factory's database
/// (found through <c>information_schema</c>; bytea values as their bytes, any other type as its text) and a
/// <c>pg_dump</c> of that database, which is what a backup of it would hold.
/// </summary>
public sealed class StoredData
{
    private readonly List<(string Where, byte[] Bytes)> _bytes = [];
    private readonly List<(string Where, string Text)> _texts = [];

    private StoredData()
    {
    }

    /// <summary>Reads the store (on SQLite, stop the server first or read what it has written so far).</summary>
    public static async Task<StoredData> ReadAsync(DotApiFactory factory)
    {
        var data = new StoredData();
        if (factory.IsPostgres)
        {
            await data.ReadPostgresAsync(factory);
        }
        else
        {
            data.ReadSqliteFiles(factory.Directory);
        }

        return data;
    }

    /// <summary>
    /// Where <paramref name="text"/> is kept: as UTF-8 or UTF-16 bytes in a file or a bytea value, or in a text (a
    /// column's text, the dump) as itself or as the hex of those bytes (how a dump writes bytea). Empty when nowhere.
    /// </summary>
    public IReadOnlyList<string> Find(string text)
    {
        byte[][] encodings = [Encoding.UTF8.GetBytes(text), Encoding.Unicode.GetBytes(text)];
        string[] hex = [.. encodings.Select(Convert.ToHexStringLower)];
        var found = new List<string>();
        found.AddRange(_bytes.Where(b => encodings.Any(e => b.Bytes.AsSpan().IndexOf(e) >= 0)).Select(b => b.Where));
        found.AddRange(_texts.Where(t => t.Text.Contains(text, StringComparison.Ordinal)
            || hex.Any(h => t.Text.Contains(h, StringComparison.OrdinalIgnoreCase))).Select(t => t.Where));
        return [.. found.Distinct(StringComparer.Ordinal)];
    }

    private void ReadSqliteFiles(string directory)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var path in Directory.GetFiles(directory))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            _bytes.Add((Path.GetFileName(path), copy.ToArray()));
        }

        // The write-ahead log may be checkpointed to nothing as the last connection closes: an empty file says nothing.
        Assert.True(_bytes.Any(b => b.Bytes.Length > 0), "no database file with content was read");
    }

    private async Task ReadPostgresAsync(DotApiFactory factory)
    {
        var columns = new List<(string Table, string Column, bool Bytea)>();
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using (var list = new NpgsqlCommand(
            """
            SELECT c.table_name, c.column_name, c.data_type = 'bytea'
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
            ORDER BY c.table_name, c.ordinal_position
            """, connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                columns.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
            }
        }

        Assert.Contains(columns, c => c.Table == "api_tokens");
        foreach (var (table, column, bytea) in columns)
        {
            var select = bytea ? $"""SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL"""
                : $"""SELECT "{column}"::text FROM "{table}" WHERE "{column}" IS NOT NULL""";
            await using var command = new NpgsqlCommand(select, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                if (bytea)
                {
                    _bytes.Add(($"{table}.{column}", (byte[])reader.GetValue(0)));
                }
                else
                {
                    _texts.Add(($"{table}.{column}", reader.GetString(0)));
                }
            }
        }

        _texts.Add(("pg_dump", await DumpAsync(factory.PostgresDatabase!)));
    }

    /// <summary>A plain-text <c>pg_dump</c> of one database of the shared cluster, by the cluster's own version of it.</summary>
    private static async Task<string> DumpAsync(string database)
    {
        var cluster = await SharedPostgres.GetAsync();
        var pgDump = Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin", "pg_dump"))
            .Where(File.Exists)
            .OrderByDescending(p => int.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(p))), out var v) ? v : 0)
            .First();
        var start = new ProcessStartInfo(pgDump)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--no-password", "--format=plain", "-h", PostgresCluster.Host, "-p", cluster.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", PostgresCluster.Superuser, "-d", database })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PGPASSWORD"] = cluster.Password;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"pg_dump exited {process.ExitCode}: {await stderr}");
        var dump = await stdout;
        Assert.Contains("COPY public.api_tokens", dump, StringComparison.Ordinal);
        return dump;
    }
}

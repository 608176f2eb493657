using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Dot.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Dot.Api.Tests;

/// <summary>
/// The real server process, killed with SIGKILL in the middle of a burst of imports: the database
/// must pass its integrity check and hold every import that was answered 200 before the kill.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dot-api-crash", Guid.NewGuid().ToString("N"));

    private string Database => Path.Combine(_directory, "dot.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ImportsAcknowledgedBeforeASigkillSurviveIt()
    {
        Directory.CreateDirectory(_directory);
        Assert.Equal(0, (await ServerProcess.RunAsync(Database, null, "users", "add", "--email", "loader@example.com", "--role", "modeler")).ExitCode);
        var token = (await ServerProcess.RunAsync(Database, null, "tokens", "create", "--email", "loader@example.com", "--name", "load")).Stdout.Trim();

        var acknowledged = new ConcurrentBag<string>();
        var attempted = 0;
        var failedInFlight = 0;
        await using (var server = await ServerProcess.StartAsync(Database))
        {
            using var client = server.Client(token);
            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var id = $"asset-{worker}-{i}";
                    Interlocked.Increment(ref attempted);
                    try
                    {
                        var response = await client.PostAsJsonAsync("/api/import_and_overwrite_external_asset", new
                        {
                            external_asset = new { id, name = $"Dashboard {id}", subtype = "dashboard", view_count = i, url = $"https://bi.example.com/{id}" },
                        });
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            acknowledged.Add(id);
                        }
                        else
                        {
                            Assert.Fail($"{id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        }
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref failedInFlight); // the server died under this request: no answer, no promise
                        return;
                    }
                }
            })).ToArray();

            // Let the burst run, then pull the plug mid-write. A worker that stopped early has failed: say how.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (acknowledged.Count < 400)
            {
                if (workers.FirstOrDefault(w => w.IsCompleted) is { } stopped)
                {
                    await stopped;
                    Assert.Fail($"a worker stopped before the kill, after {acknowledged.Count} acknowledged imports");
                }

                if (waited.Elapsed > TimeSpan.FromSeconds(120))
                {
                    await stop.CancelAsync();
                    Assert.Fail($"only {acknowledged.Count} of 400 imports acknowledged within 120 s");
                }

                await Task.Delay(10);
            }

            server.Kill();
            await server.Process.WaitForExitAsync();
            await Task.WhenAll(workers);
        }

        await using (var restarted = await ServerProcess.StartAsync(Database))
        {
            using var client = restarted.Client(token);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        }

        SqliteConnection.ClearAllPools();
        await using var db = new SqliteConnection($"Data Source={Database};Mode=ReadOnly");
        await db.OpenAsync();
        await using (var check = db.CreateCommand())
        {
            check.CommandText = "PRAGMA integrity_check;";
            Assert.Equal("ok", (string?)await check.ExecuteScalarAsync());
        }

        var stored = new HashSet<string>(StringComparer.Ordinal);
        await using (var read = db.CreateCommand())
        {
            read.CommandText = "SELECT \"Id\" FROM external_assets;";
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                stored.Add(reader.GetString(0));
            }
        }

        var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
        output.WriteLine($"attempted {attempted} imports, {acknowledged.Count} answered 200 before the SIGKILL, {failedInFlight} cut off in flight; "
            + $"{stored.Count} rows after restart; integrity_check ok; {lost.Count} acknowledged imports lost");
        Assert.Empty(lost);
        Assert.True(stored.Count >= acknowledged.Count);
    }
}

using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>A command checks the settings as the server does at start, before it touches the database.</summary>
public sealed class CliSettingsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dot-api-cli-settings", Guid.NewGuid().ToString("N"));

    public CliSettingsTests() => Directory.CreateDirectory(_directory);

    private string Database => Path.Combine(_directory, "dot.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ABadSettingStopsACommandWithOneLineNamingTheKey()
    {
        var list = await ServerProcess.RunAsync(Database, null, "--Dot:Audit:FlushSeconds=0", "users", "list");

        Assert.Equal(1, list.ExitCode);
        Assert.Equal("error: Dot:Audit:FlushSeconds must be between 1 and 60 (seconds); it is 0.\n", list.Stderr);
        Assert.Equal(string.Empty, list.Stdout);
        Assert.False(File.Exists(Database)); // stopped before the database
    }

    [Fact]
    public async Task AGoodSettingLetsTheCommandRun()
    {
        var list = await ServerProcess.RunAsync(Database, null, "--Dot:Audit:FlushSeconds=60", "users", "list");

        Assert.Equal(0, list.ExitCode);
        Assert.Equal(string.Empty, list.Stderr);
    }
}

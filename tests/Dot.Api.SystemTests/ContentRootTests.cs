using System.Net;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>
/// The built server (<c>dotnet Dot.Api.dll</c>) started from a working directory of its own, as a service manager
/// or a shell elsewhere would: it finds its page beside the dll, and a missing page file is a 404, never a 500.
/// </summary>
public sealed class ContentRootTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dot-api-content-root", Guid.NewGuid().ToString("N"));

    public ContentRootTests() => Directory.CreateDirectory(_directory);

    /// <summary>Also the server's working directory (see <see cref="ServerProcess"/>).</summary>
    private string Database => Path.Combine(_directory, "dot.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task PageIsServedWhenTheServerStartsFromAnotherWorkingDirectory()
    {
        await using var server = await ServerProcess.StartAsync(Database);
        using var client = server.Client();

        var page = await client.GetAsync("/settings/users");
        var script = await client.GetAsync("/settings/users.js");
        var missing = await client.GetAsync("/settings/no-such-file.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("src=\"/settings/users.js\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AGivenContentRootWinsAndAMissingPageIs404NotA500()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_directory, "empty-content-root")).FullName;
        await using var server = await ServerProcess.StartAsync(Database, "--contentRoot", empty);
        using var client = server.Client();

        var page = await client.GetAsync("/settings/users");

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal("application/problem+json", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Theory]
    [InlineData("ASPNETCORE_CONTENTROOT")]
    [InlineData("DOTNET_CONTENTROOT")]
    public async Task AContentRootFromTheEnvironmentWins(string variable)
    {
        var empty = Directory.CreateDirectory(Path.Combine(_directory, "empty-content-root")).FullName;
        await using var server = await ServerProcess.StartAsync(Database, new Dictionary<string, string> { [variable] = empty });

        Assert.Equal(HttpStatusCode.NotFound, (await server.Client().GetAsync("/settings/users")).StatusCode);
    }

    [Fact]
    public async Task ARelativeSqlitePathStaysRelativeToTheWorkingDirectory()
    {
        await using var server = await ServerProcess.StartAsync(Database, "--ConnectionStrings:Dot=Data Source=relative.db");

        Assert.Equal(HttpStatusCode.OK, (await server.Client().GetAsync("/healthz")).StatusCode);
        Assert.True(File.Exists(Path.Combine(_directory, "relative.db")));
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "relative.db")));
    }
}

using System.Net;
using System.Text.Json;
using Dot.Api.Authentication;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;

namespace Dot.Api.Tests;

/// <summary>The executable's admin commands (API.md §6), run as a newcomer would: as a process.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dot-api-cli", Guid.NewGuid().ToString("N"));

    public CliTests() => Directory.CreateDirectory(_directory);

    private string Database => Path.Combine(_directory, "dot.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task NewcomerFlowAddsAdminMintsTokenAndCallsTheServer()
    {
        var add = await ServerProcess.RunAsync(Database, null, "users", "add", "--email", "Admin@Example.com", "--role", "admin", "--name", "Ada");
        Assert.Equal(0, add.ExitCode);
        Assert.True(Guid.TryParse(add.Stdout.Trim(), out _), add.Stdout + add.Stderr);

        var create = await ServerProcess.RunAsync(Database, null, "tokens", "create", "--email", "admin@example.com", "--name", "ci", "--expires-in", "12h");
        Assert.Equal(0, create.ExitCode);
        var token = create.Stdout.TrimEnd('\n');
        Assert.Equal(TokenShape.Valid, TokenFormat.Check(token)); // stdout is the token and nothing else
        Assert.Equal(string.Empty, create.Stderr);

        await using var server = await ServerProcess.StartAsync(Database);
        using var client = server.Client(token);
        var me = await client.GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("admin", body.GetProperty("role").GetString());
        Assert.True(me.Headers.Contains(ApiTokenDefaults.ExpirationHeader));
        await server.StopAsync(); // a graceful stop writes the gathered last-used data

        var list = await ServerProcess.RunAsync(Database, null, "tokens", "list", "--email", "ADMIN@example.com");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("\tci\t" + token[..10] + "\tactive\t", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(token, list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\t-\n", list.Stdout, StringComparison.Ordinal); // last_used_at was written at shutdown

        var id = list.Stdout.Split('\n')[1].Split('\t')[0];
        var revoke = await ServerProcess.RunAsync(Database, null, "tokens", "revoke", "--id", id);
        Assert.Equal(0, revoke.ExitCode);
        var after = await ServerProcess.RunAsync(Database, null, "tokens", "list", "--email", "admin@example.com");
        Assert.Contains("\trevoked\t", after.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PasswordCanBeGivenOnStdin()
    {
        var add = await ServerProcess.RunAsync(Database, "correct horse battery\n", "users", "add", "--email", "p@example.com", "--role", "user", "--password-stdin");
        Assert.Equal(0, add.ExitCode);

        var empty = await ServerProcess.RunAsync(Database, "", "users", "add", "--email", "q@example.com", "--role", "user", "--password-stdin");
        Assert.NotEqual(0, empty.ExitCode);
    }

    [Theory]
    [InlineData("users")]
    [InlineData("users", "remove")]
    [InlineData("users", "add", "--role", "admin")]
    [InlineData("users", "add", "--email", "a@b.c", "--role", "boss")]
    [InlineData("users", "add", "--email", "not-an-email", "--role", "user")]
    [InlineData("users", "add", "--email", "a@b.c", "--role")]
    [InlineData("users", "add", "--email", "a@b.c", "--role", "user", "--colour", "red")]
    [InlineData("tokens", "create", "--email", "a@b.c")]
    [InlineData("tokens", "create", "--email", "a@b.c", "--name", "x", "--expires-in", "soon")]
    [InlineData("tokens", "create", "--email", "a@b.c", "--name", "x", "--expires-in", "0d")]
    [InlineData("tokens", "create", "--email", "a@b.c", "--name", "x", "--expires-in", "4000d")]
    [InlineData("tokens", "revoke", "--id", "abc")]
    public async Task BadArgumentsExitNonZeroWithOneLineOnStderr(params string[] args)
    {
        var result = await ServerProcess.RunAsync(Database, null, args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusalsExitOneWithOneLine()
    {
        var unknownUser = await ServerProcess.RunAsync(Database, null, "tokens", "create", "--email", "nobody@example.com", "--name", "x");
        Assert.Equal(1, unknownUser.ExitCode);
        Assert.Single(unknownUser.Stderr.TrimEnd('\n').Split('\n'));

        await ServerProcess.RunAsync(Database, null, "users", "add", "--email", "dup@example.com", "--role", "user");
        var duplicate = await ServerProcess.RunAsync(Database, null, "users", "add", "--email", "DUP@example.com", "--role", "user");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Equal("error: a user with email DUP@example.com already exists.", duplicate.Stderr.Trim());

        var unknownToken = await ServerProcess.RunAsync(Database, null, "tokens", "revoke", "--id", Guid.NewGuid().ToString());
        Assert.Equal(1, unknownToken.ExitCode);
    }
}

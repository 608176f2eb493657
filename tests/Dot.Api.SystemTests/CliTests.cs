using System.Diagnostics;
using System.Globalization;
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
    [InlineData("tokens", "rotate", "--id", "abc")]
    [InlineData("tokens", "rotate")]
    [InlineData("tokens", "creat", "--email", "a@b.c")]
    [InlineData("users", "add", "--email", "a@b.c", "--role", "user", "--password-stdin", "--service")]
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

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task HelpPrintsUsageWithEveryCommand(string help)
    {
        var result = await ServerProcess.RunAsync(Database, null, help);

        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "serve", "users", "tokens", "connections", "help" })
        {
            Assert.Contains(command, result.Stdout, StringComparison.Ordinal);
        }

        Assert.Equal(string.Empty, result.Stderr);
        Assert.False(File.Exists(Database)); // usage touches no database
    }

    [Fact]
    public async Task HelpForOneCommandNamesItsOptions()
    {
        var result = await ServerProcess.RunAsync(Database, null, "help", "tokens", "create");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("tokens create", result.Stdout, StringComparison.Ordinal);
        foreach (var option in new[] { "--email", "--name", "--description", "--expires-in" })
        {
            Assert.Contains(option, result.Stdout, StringComparison.Ordinal);
        }

        var group = await ServerProcess.RunAsync(Database, null, "help", "tokens");
        Assert.Contains("rotate", group.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("did you mean 'tokens'?", "token", "create")]
    [InlineData("did you mean 'tokens create'?", "tokens", "creat")]
    [InlineData("did you mean 'users'?", "help", "usres")]
    [InlineData("did you mean 'users'?", "--urls", "http://127.0.0.1:0", "usres", "list")]
    public async Task UnknownWordIsAnErrorWithASuggestionAndNeverAServer(string suggestion, params string[] args)
    {
        var clock = Stopwatch.StartNew();
        var result = await ServerProcess.RunAsync(Database, null, args);

        Assert.Equal(2, result.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: unknown command", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(suggestion, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout); // no "Now listening"
        Assert.False(File.Exists(Database));
    }

    [Fact]
    public async Task UsersListShowsOneLinePerUser()
    {
        await ServerProcess.RunAsync(Database, "correct horse battery\n", "users", "add", "--email", "ada@example.com", "--role", "admin", "--password-stdin");
        var bob = await ServerProcess.RunAsync(Database, null, "users", "add", "--email", "bob@example.com", "--role", "user", "--name", "Bob");

        var list = await ServerProcess.RunAsync(Database, null, "users", "list");

        Assert.Equal(0, list.ExitCode);
        var lines = list.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("id\temail\trole\tdisabled\thas_password\tkind", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^[0-9a-f-]{36}\tada@example.com\tadmin\tfalse\ttrue\tperson$", lines[1]);
        Assert.Equal($"{bob.Stdout.Trim()}\tbob@example.com\tuser\tfalse\tfalse\tperson", lines[2]);
    }

    [Fact]
    public async Task ServiceAccountsAreAddedWithoutAPasswordAndGetScopedTokens()
    {
        var add = await ServerProcess.RunAsync(Database, null, "users", "add", "--email", "ci@service.local", "--role", "user", "--service");
        Assert.Equal(0, add.ExitCode);
        var both = await ServerProcess.RunAsync(Database, "correct horse battery\n", "users", "add", "--email", "x@service.local", "--role", "user", "--service", "--password-stdin");
        Assert.NotEqual(0, both.ExitCode);
        var set = await ServerProcess.RunAsync(Database, "correct horse battery\n", "users", "set-password", "--email", "ci@service.local", "--password-stdin");
        Assert.NotEqual(0, set.ExitCode);
        Assert.Contains("service account", set.Stderr, StringComparison.Ordinal);
        var list = await ServerProcess.RunAsync(Database, null, "users", "list");
        Assert.Matches(@"\tci@service.local\tuser\tfalse\tfalse\tservice", list.Stdout);

        var token = await ServerProcess.RunAsync(Database, null, "tokens", "create", "--email", "ci@service.local", "--name", "ci",
            "--scope", "chats", "--scope", "sync:dbt/a", "--allow-ip", "10.0.0.0/8", "--allow-ip", "2001:db8::1");
        Assert.Equal(0, token.ExitCode);
        var tokens = await ServerProcess.RunAsync(Database, null, "tokens", "list", "--email", "ci@service.local");
        Assert.Contains("\tchats,profile,sync:dbt/a\t10.0.0.0/8,2001:db8::1/128", tokens.Stdout, StringComparison.Ordinal);
        var bad = await ServerProcess.RunAsync(Database, null, "tokens", "create", "--email", "ci@service.local", "--name", "bad", "--scope", "bogus");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("'bogus'", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetPasswordLetsTheUserSignIn()
    {
        await using var factory = new DotApiFactory();
        var add = await ServerProcess.RunAsync(factory, null, "users", "add", "--email", "ada@example.com", "--role", "user");
        Assert.Equal(0, add.ExitCode);
        var session = await SessionClient.StartAsync(factory);
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.SignInAsync("ada@example.com", "correct horse battery")).StatusCode);

        var set = await ServerProcess.RunAsync(factory, "correct horse battery\n", "users", "set-password", "--email", "ADA@example.com", "--password-stdin");

        Assert.Equal(0, set.ExitCode);
        Assert.Equal(HttpStatusCode.OK, (await session.SignInAsync("ada@example.com", "correct horse battery")).StatusCode);
        var unknown = await ServerProcess.RunAsync(factory, "correct horse battery\n", "users", "set-password", "--email", "nobody@example.com", "--password-stdin");
        Assert.Equal(1, unknown.ExitCode);
        var tooShort = await ServerProcess.RunAsync(factory, "short\n", "users", "set-password", "--email", "ada@example.com", "--password-stdin");
        Assert.Equal(2, tooShort.ExitCode);
        var noFlag = await ServerProcess.RunAsync(factory, "correct horse battery\n", "users", "set-password", "--email", "ada@example.com");
        Assert.Equal(2, noFlag.ExitCode);
    }

    [Fact]
    public async Task RotateWithoutGraceStopsTheOldTokenAndPrintsTheNewOne()
    {
        await ServerProcess.RunAsync(Database, null, "users", "add", "--email", "ada@example.com", "--role", "admin");
        var old = (await ServerProcess.RunAsync(Database, null, "tokens", "create", "--email", "ada@example.com", "--name", "ci")).Stdout.TrimEnd('\n');
        var id = (await ServerProcess.RunAsync(Database, null, "tokens", "list", "--email", "ada@example.com")).Stdout.Split('\n')[1].Split('\t')[0];

        var rotate = await ServerProcess.RunAsync(Database, null, "tokens", "rotate", "--id", id, "--grace", "0m");

        Assert.Equal(0, rotate.ExitCode);
        var fresh = rotate.Stdout.TrimEnd('\n');
        Assert.Equal(TokenShape.Valid, TokenFormat.Check(fresh));
        Assert.NotEqual(old, fresh);
        await using (var server = await ServerProcess.StartAsync(Database))
        {
            using var oldClient = server.Client(old);
            using var newClient = server.Client(fresh);
            Assert.Equal(HttpStatusCode.Unauthorized, (await oldClient.GetAsync("/api/auth/me")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await newClient.GetAsync("/api/auth/me")).StatusCode);
        }

        var again = await ServerProcess.RunAsync(Database, null, "tokens", "rotate", "--id", id);
        Assert.Equal(1, again.ExitCode); // only an active token can be rotated, as the API's 409
        Assert.Contains("only an active token", again.Stderr, StringComparison.Ordinal);
        var tooLong = await ServerProcess.RunAsync(Database, null, "tokens", "rotate", "--id", id, "--grace", "8d");
        Assert.Equal(2, tooLong.ExitCode);
    }

    [Fact]
    public async Task OneYearIsThreeHundredSixtyFiveDays()
    {
        await ServerProcess.RunAsync(Database, null, "users", "add", "--email", "ada@example.com", "--role", "admin");

        var create = await ServerProcess.RunAsync(Database, null, "tokens", "create", "--email", "ada@example.com", "--name", "ci", "--expires-in", "1y");

        Assert.Equal(0, create.ExitCode);
        var row = (await ServerProcess.RunAsync(Database, null, "tokens", "list", "--email", "ada@example.com")).Stdout.Split('\n')[1].Split('\t');
        var created = DateTime.Parse(row[4], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        var expires = DateTime.Parse(row[5], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        Assert.InRange((expires - created).TotalDays, 364.99, 365.01);
    }

    [Fact]
    public async Task ConfigurationOnTheCommandLineReachesTheCommand()
    {
        var other = Path.Combine(_directory, "other.db");

        var add = await ServerProcess.RunAsync(Database, null, "users", "add", "--email", "ada@example.com", "--role", "user", $"--ConnectionStrings:Dot=Data Source={other}");
        var capped = await ServerProcess.RunAsync(Database, null, "--Dot:Tokens:MaxLifetimeDays", "30", "tokens", "create", "--email", "ada@example.com", "--name", "x", "--expires-in", "31d",
            $"--ConnectionStrings:Dot=Data Source={other}");

        Assert.Equal(0, add.ExitCode);
        Assert.True(File.Exists(other));
        Assert.False(File.Exists(Database)); // the environment's connection string was overridden
        Assert.Equal(2, capped.ExitCode);
        Assert.Contains("at most 30 days", capped.Stderr, StringComparison.Ordinal);
        var list = await ServerProcess.RunAsync(Database, null, "users", "list", "--ConnectionStrings:Dot", $"Data Source={other}");
        Assert.Contains("\tada@example.com\t", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TakenPortIsOneLineAndExitOne()
    {
        await using var server = await ServerProcess.StartAsync(Database);
        var address = server.Address.ToString().TrimEnd('/');

        var second = await ServerProcess.RunAsync(Database, null, "--urls", address);

        Assert.Equal(1, second.ExitCode);
        Assert.Equal($"{server.Address.Authority} is already in use: stop the other server or pass --urls http://127.0.0.1:PORT", second.Stderr.TrimEnd('\n'));
        Assert.DoesNotContain("   at ", second.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartedServerNamesItsPageAndSwaggerAndRedirectsTheRoot()
    {
        await using var server = await ServerProcess.StartAsync(Database);
        var root = server.Address.ToString().TrimEnd('/');
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.Address };

        var home = await client.GetAsync("/");
        var icon = await client.GetAsync("/favicon.svg");

        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.Equal("/settings/users", home.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, icon.StatusCode);
        Assert.Equal("image/svg+xml", icon.Content.Headers.ContentType?.MediaType);
        await Eventually.TrueAsync(() => server.Output.Contains("Dot API listening on", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), () => $"no start line in: {server.Output}");

        Assert.Contains($"Dot API listening on {root} — Settings / Users: {root}/settings/users, Swagger UI: {root}/swagger", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartLineLeavesSwaggerOutWhenItIsDisabled()
    {
        await using var server = await ServerProcess.StartAsync(Database, "--Dot:Swagger:Enabled=false");
        var root = server.Address.ToString().TrimEnd('/');
        await Eventually.TrueAsync(() => server.Output.Contains("Dot API listening on", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), () => $"no start line in: {server.Output}");

        Assert.Contains($"Dot API listening on {root} — Settings / Users: {root}/settings/users", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Swagger UI:", server.Output, StringComparison.Ordinal);
    }
}

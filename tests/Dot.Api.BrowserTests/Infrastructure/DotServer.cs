using Dot.Api.Access;
using Dot.Api.Tokens;
using Dot.Api.Users;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.BrowserTests.Infrastructure;

/// <summary>
/// The real server on a real loopback port (Kestrel through <c>WebApplicationFactory.UseKestrel(0)</c>),
/// with its own SQLite file, so a real browser can load the page and keep real cookies.
/// </summary>
public sealed class DotServer : WebApplicationFactory<Program>
{
    private readonly string _directory;
    private readonly Dictionary<string, string?> _settings;

    private DotServer(IReadOnlyDictionary<string, string?>? settings)
    {
        _directory = Path.Combine(Path.GetTempPath(), "dot-api-browser-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _settings = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>(), StringComparer.Ordinal)
        {
            ["ConnectionStrings:Dot"] = $"Data Source={Path.Combine(_directory, "dot.db")}",
        };
        UseKestrel(0);
    }

    public Uri BaseAddress { get; private set; } = null!;

    public static DotServer Start(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var server = new DotServer(settings);
        server.StartServer();
        var address = server.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.First();
        // Browsers and HttpClient alike: the IPv4 loopback, whatever name Kestrel reports.
        var port = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        server.BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        return server;
    }

    public string Url(string path) => new Uri(BaseAddress, path).ToString();

    /// <summary>A plain HTTP client of the server, with a token in the API-KEY header when given.</summary>
    public HttpClient ApiClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Add("API-KEY", token);
        }

        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public async Task<User> CreateUserAsync(string email, Role role, string? password = null, string? name = null)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserService>();
        return await users.CreateAsync(email, name, role, password, CancellationToken.None)
            ?? throw new InvalidOperationException($"{email} exists");
    }

    public async Task SetDisabledAsync(Guid userId, bool disabled)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserService>();
        var user = await users.FindAsync(userId, CancellationToken.None) ?? throw new InvalidOperationException("no such user");
        user.Disabled = disabled;
        await users.SaveAsync(user, CancellationToken.None);
    }

    /// <summary>A token minted by the product's own service: the plaintext and its id.</summary>
    public async Task<(string Token, Guid Id)> CreateTokenAsync(Guid userId, string name, string? description = null,
        int? days = 30, bool revoked = false)
    {
        await using var scope = Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        DateTime? expiresAt = days is { } d ? tokens.Now.AddDays(d) : null;
        if (await tokens.TryCreateAsync(minter: null, userId, name, description, expiresAt, TokenRestrictions.None, CancellationToken.None)
            is not MintResult.Minted { Token: var token, Plaintext: var plaintext })
        {
            throw new InvalidOperationException($"No token named {name} minted.");
        }

        if (revoked)
        {
            var tracked = await tokens.FindAsync(token.Id, CancellationToken.None);
            await tokens.RevokeAsync(tracked!, CancellationToken.None);
        }

        return (plaintext, token.Id);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

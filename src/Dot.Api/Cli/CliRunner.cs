using System.Globalization;
using Dot.Api.Infrastructure;
using Dot.Api.Tokens;
using Dot.Api.Users;

namespace Dot.Api.Cli;

/// <summary>
/// The admin commands of API.md §6, run against the same database and services as the server.
/// Only the requested output goes to stdout (so <c>TOKEN=$(dot-api tokens create …)</c> works);
/// errors are one line on stderr with a non-zero exit code: 2 for bad arguments, 1 for a refusal.
/// </summary>
public static class CliRunner
{
    private static readonly HashSet<string> PasswordStdin = new(StringComparer.Ordinal) { "password-stdin" };

    private static readonly Dictionary<string, IReadOnlySet<string>> Verbs = new(StringComparer.Ordinal)
    {
        ["users add"] = Set("email", "role", "name", "password-stdin"),
        ["tokens create"] = Set("email", "name", "description", "expires-in"),
        ["tokens list"] = Set("email"),
        ["tokens revoke"] = Set("id"),
    };

    /// <summary>Lets later features (connections) register their verbs and handlers.</summary>
    private static readonly Dictionary<string, Func<CliArguments, IServiceProvider, TextWriter, CancellationToken, Task<int>>> Handlers =
        new(StringComparer.Ordinal)
        {
            ["users add"] = AddUserAsync,
            ["tokens create"] = CreateTokenAsync,
            ["tokens list"] = ListTokensAsync,
            ["tokens revoke"] = RevokeTokenAsync,
        };

    public static void Register(string command, IReadOnlySet<string> options,
        Func<CliArguments, IServiceProvider, TextWriter, CancellationToken, Task<int>> handler)
    {
        Verbs[command] = options;
        Handlers[command] = handler;
    }

    /// <summary>Standard input, for a handler given the services of <see cref="RunAsync"/> (null elsewhere).</summary>
    public static TextReader? StdinOf(IServiceProvider services) => (services as StdinServices)?.Stdin;

    public static CliArguments Parse(string[] args) => CliArguments.Parse(args, Verbs, PasswordStdin);

    public static async Task<int> RunAsync(CliArguments command, IServiceProvider services, TextWriter stdout, TextWriter stderr,
        TextReader stdin, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var scope = services.CreateAsyncScope();
            var handler = Handlers[$"{command.Group} {command.Verb}"];
            return await handler(command, new StdinServices(scope.ServiceProvider, stdin), stdout, cancellationToken);
        }
        catch (CliUsageException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return 2;
        }
        catch (CliRefusedException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One line, no stack trace: the database is missing, locked or unreadable, say.
            await stderr.WriteLineAsync($"error: {ex.GetBaseException().Message}");
            return 1;
        }
    }

    private static async Task<int> AddUserAsync(CliArguments args, IServiceProvider services, TextWriter stdout, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var email = args.Required("email");
        UserService.ValidateEmail(email, errors);
        var role = UserService.ParseRole(args.Required("role"), errors, required: true);
        var name = args.Optional("name");
        UserService.ValidateName(name, errors);
        string? password = null;
        if (args.Flag("password-stdin"))
        {
            password = (await ((StdinServices)services).Stdin.ReadLineAsync(ct))?.TrimEnd('\r');
            if (string.IsNullOrEmpty(password))
            {
                throw new CliUsageException("--password-stdin given but no password was read from standard input.");
            }

            UserService.ValidatePassword(password, errors);
        }

        ThrowIfInvalid(errors);
        var user = await services.GetRequiredService<UserService>().CreateAsync(email, name, role!.Value, password, ct)
            ?? throw new CliRefusedException($"a user with email {email} already exists.");
        await stdout.WriteLineAsync(user.Id.ToString());
        return 0;
    }

    private static async Task<int> CreateTokenAsync(CliArguments args, IServiceProvider services, TextWriter stdout, CancellationToken ct)
    {
        var email = args.Required("email");
        var name = args.Required("name");
        var description = args.Optional("description");
        var errors = new FieldErrors();
        TokenService.ValidateText(name, description, errors);
        var tokens = services.GetRequiredService<TokenService>();
        var expiresIn = args.Optional("expires-in") ?? "30d";
        DateTime? expiresAt = null;
        if (!string.Equals(expiresIn, "never", StringComparison.OrdinalIgnoreCase))
        {
            var lifetime = ParseDuration(expiresIn)
                ?? throw new CliUsageException($"--expires-in '{expiresIn}' is not a duration such as 30d, 12h, 15m, 90s or never.");
            expiresAt = tokens.ResolveExpiry(lifetime, null, "expires-in", "expires-in", errors);
        }
        else
        {
            expiresAt = tokens.ResolveExpiry(null, null, "expires-in", "expires-in", errors);
            if (expiresAt is not null)
            {
                throw new CliRefusedException("this server does not allow tokens that never expire (Dot:Tokens:MaxLifetimeDays).");
            }
        }

        ThrowIfInvalid(errors);
        var user = await services.GetRequiredService<UserService>().FindByEmailAsync(email, ct)
            ?? throw new CliRefusedException($"no user with email {email}.");
        var (_, plaintext) = await tokens.CreateAsync(user.Id, null, name, description, expiresAt, ct);
        await stdout.WriteLineAsync(plaintext);
        return 0;
    }

    private static async Task<int> ListTokensAsync(CliArguments args, IServiceProvider services, TextWriter stdout, CancellationToken ct)
    {
        var email = args.Required("email");
        var user = await services.GetRequiredService<UserService>().FindByEmailAsync(email, ct)
            ?? throw new CliRefusedException($"no user with email {email}.");
        var tokens = services.GetRequiredService<TokenService>();
        var now = tokens.Now;
        await stdout.WriteLineAsync("id\tname\thint\tstatus\tcreated_at\texpires_at\tlast_used_at");
        foreach (var t in await tokens.ListAsync(user.Id, ct))
        {
            await stdout.WriteLineAsync(string.Join('\t', t.Id, t.Name, t.Hint, t.StatusAt(now).ToString().ToLowerInvariant(),
                Iso(t.CreatedAt), Iso(t.ExpiresAt) ?? "never", Iso(t.LastUsedAt) ?? "-"));
        }

        return 0;
    }

    private static async Task<int> RevokeTokenAsync(CliArguments args, IServiceProvider services, TextWriter stdout, CancellationToken ct)
    {
        var idText = args.Required("id");
        if (!Guid.TryParse(idText, out var id))
        {
            throw new CliUsageException($"--id '{idText}' is not a token id (a GUID, as 'tokens list' shows).");
        }

        var tokens = services.GetRequiredService<TokenService>();
        var token = await tokens.FindAsync(id, ct) ?? throw new CliRefusedException($"no token with id {id}.");
        await tokens.RevokeAsync(token, ct);
        await stdout.WriteLineAsync($"revoked {id}");
        return 0;
    }

    /// <summary>"30d", "12h", "15m", "90s": a positive whole number and a unit.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return null;
        }

        long multiplier = char.ToLowerInvariant(text[^1]) switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => 0,
        };
        if (multiplier == 0)
        {
            return null;
        }

        // Anything past the longest lifetime stays just past it, so the lifetime rule refuses it by name.
        const long tooLong = (TokenService.MaxDays * 86400L) + 1;
        return TimeSpan.FromSeconds(Math.Min(Math.Min(n, tooLong) * multiplier, tooLong));
    }

    public static void ThrowIfInvalid(FieldErrors errors)
    {
        if (!errors.IsEmpty)
        {
            throw new CliUsageException(errors.ToString());
        }
    }

    private static string? Iso(DateTime? value) => value?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static HashSet<string> Set(params string[] names) => new(names, StringComparer.Ordinal);

    /// <summary>The scope's services plus standard input, for the one verb that reads it.</summary>
    private sealed class StdinServices(IServiceProvider inner, TextReader stdin) : IServiceProvider
    {
        public TextReader Stdin { get; } = stdin;

        public object? GetService(Type serviceType) => inner.GetService(serviceType);
    }
}

/// <summary>A well-formed command the data refuses (no such user, email taken).</summary>
public sealed class CliRefusedException(string message) : Exception(message);

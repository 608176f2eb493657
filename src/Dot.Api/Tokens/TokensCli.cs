using System.CommandLine;
using System.Globalization;
using Dot.Api.Access;
using Dot.Api.Cli;
using Dot.Api.Users;
using Dot.Api.Validation;

namespace Dot.Api.Tokens;

/// <summary>
/// <c>dot-api tokens create | list | revoke | rotate</c> (API.md §6), by the rules of <see cref="TokenService"/> as the
/// API applies them. <c>create</c> and <c>rotate</c> print only the token, so <c>TOKEN=$(dot-api tokens create …)</c> works.
/// </summary>
internal sealed class TokensCli : ICliCommands
{
    private static readonly Option<string> Email = CliCommands.Text("--email", "The owner's email address.", required: true);
    private static readonly Option<string> Name = CliCommands.Text("--name", "The token's name, to tell it apart.", required: true);
    private static readonly Option<string> Description = CliCommands.Text("--description", "What the token is for.");
    private static readonly Option<string> ExpiresIn = CliCommands.Text("--expires-in", $"Its lifetime: {CliDuration.Examples}, or never (default 30d).");
    private static readonly Option<string> Id = CliCommands.Text("--id", "The token's id, as 'tokens list' shows it.", required: true);
    private static readonly Option<string[]> Scope = new("--scope")
    {
        Description = "A scope the token is limited to (repeatable): profile, tokens, users, connections, sync, sync:<type>/<id>, assets, history, chats, audit; none for everything the role allows.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<string[]> AllowIp = new("--allow-ip")
    {
        Description = "An address or CIDR range the token may be used from (repeatable), IPv4 or IPv6; none for anywhere.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<string> Grace = CliCommands.Text("--grace", $"How long the old token keeps working: 0m (default) to {TokenService.MaxGrace.TotalDays:0}d, e.g. 1h or 24h.");

    public void AddTo(RootCommand root)
    {
        var tokens = root.Group("tokens", "API tokens: create, list, revoke, rotate.");
        tokens.Verb("create", "Create a token for a user; prints only the token.", CreateAsync, Email, Name, Description, ExpiresIn, Scope, AllowIp);
        tokens.Verb("list", "A user's tokens, newest first (never a secret).", ListAsync, Email);
        tokens.Verb("revoke", "Revoke a token; it fails on the next request.", RevokeAsync, Id);
        tokens.Verb("rotate", "A new secret with the same name and lifetime length; prints only the new token.", RotateAsync, Id, Grace);
    }

    private static async Task<int> CreateAsync(ParseResult parse, CliContext cli, CancellationToken ct)
    {
        var email = parse.GetRequiredValue(Email);
        var name = parse.GetRequiredValue(Name);
        var description = parse.GetValue(Description);
        var errors = new FieldErrors();
        TokenService.ValidateText(name, description, errors);
        var tokens = cli.Get<TokenService>();
        var expiresIn = parse.GetValue(ExpiresIn) ?? "30d";
        DateTime? expiresAt;
        if (!string.Equals(expiresIn, "never", StringComparison.OrdinalIgnoreCase))
        {
            var lifetime = CliDuration.Parse(expiresIn)
                ?? throw new CliUsageException($"--expires-in '{expiresIn}' is not a duration such as {CliDuration.Examples}, or never.");
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

        var scopes = parse.GetValue(Scope) is { Length: > 0 } s ? TokenScopes.Parse(s, "--scope", errors) : null;
        var allowedIps = parse.GetValue(AllowIp) is { Length: > 0 } a ? AllowedIps.Parse(a, "--allow-ip", errors) : null;
        CliCommands.ThrowIfInvalid(errors);
        var user = await cli.Get<UserService>().FindByEmailAsync(email, ct)
            ?? throw new CliRefusedException($"no user with email {email}.");
        // The command line is the operator: minting is refused to it by nothing but the name rule.
        if (await tokens.TryCreateAsync(minter: null, user.Id, name, description, expiresAt, new TokenRestrictions(scopes, allowedIps), ct)
            is not MintResult.Minted minted)
        {
            throw new CliRefusedException($"{email} already has an active token named \"{name.Trim()}\": revoke or rotate it, or pick another name.");
        }

        await cli.Stdout.WriteLineAsync(minted.Plaintext);
        return 0;
    }

    private static async Task<int> ListAsync(ParseResult parse, CliContext cli, CancellationToken ct)
    {
        var email = parse.GetRequiredValue(Email);
        var user = await cli.Get<UserService>().FindByEmailAsync(email, ct)
            ?? throw new CliRefusedException($"no user with email {email}.");
        var tokens = cli.Get<TokenService>();
        var now = tokens.Now;
        await cli.Stdout.WriteLineAsync("id\tname\thint\tstatus\tcreated_at\texpires_at\tlast_used_at\tscopes\tallowed_ips");
        foreach (var t in await tokens.ListAsync(user.Id, ct))
        {
            await cli.Stdout.WriteLineAsync(string.Join('\t', t.Id, t.Name, t.Hint, t.StatusAt(now).ToString().ToLowerInvariant(),
                Iso(t.CreatedAt), Iso(t.ExpiresAt) ?? "never", Iso(t.LastUsedAt) ?? "-",
                string.Join(',', Scopes.ToWire(t.Scopes)), t.AllowedIps?.Replace(' ', ',') ?? "*"));
        }

        return 0;
    }

    private static async Task<int> RevokeAsync(ParseResult parse, CliContext cli, CancellationToken ct)
    {
        var id = ParseId(parse);
        var tokens = cli.Get<TokenService>();
        var token = await tokens.FindAsync(id, ct) ?? throw new CliRefusedException($"no token with id {id}.");
        await tokens.RevokeAsync(token, ct);
        await cli.Stdout.WriteLineAsync($"revoked {id}");
        return 0;
    }

    /// <summary>As <c>POST /api/tokens/{id}/rotate</c>: only an active token, and of two rotations at once only one.</summary>
    private static async Task<int> RotateAsync(ParseResult parse, CliContext cli, CancellationToken ct)
    {
        var id = ParseId(parse);
        var graceText = parse.GetValue(Grace) ?? "0m";
        if (CliDuration.Parse(graceText, allowZero: true) is not { } grace || grace > TokenService.MaxGrace)
        {
            throw new CliUsageException($"--grace '{graceText}' is not a duration from 0m to {TokenService.MaxGrace.TotalDays:0}d, such as 0m, 1h, 24h or 7d.");
        }

        var tokens = cli.Get<TokenService>();
        var token = await tokens.FindAsync(id, ct) ?? throw new CliRefusedException($"no token with id {id}.");
        if (await tokens.RotateAsync(minter: null, token, grace, ct) is not MintResult.Minted minted)
        {
            throw new CliRefusedException($"{id}: {TokenService.NotActiveForRotation}");
        }

        await cli.Stdout.WriteLineAsync(minted.Plaintext);
        return 0;
    }

    private static Guid ParseId(ParseResult parse)
    {
        var text = parse.GetRequiredValue(Id);
        return Guid.TryParse(text, out var id)
            ? id
            : throw new CliUsageException($"--id '{text}' is not a token id (a GUID, as 'tokens list' shows).");
    }

    private static string? Iso(DateTime? value) => value?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

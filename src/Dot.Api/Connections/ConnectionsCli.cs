using System.Text.Json;
using Dot.Api.Cli;
using Dot.Api.Infrastructure;

namespace Dot.Api.Connections;

/// <summary>
/// <c>dot-api connections add --type T --id ID [--name N] [--settings-json JSON] [--secrets-json JSON|-]</c>:
/// prints "type/id". <c>--secrets-json -</c> reads the secrets from standard input, so they stay out of the
/// shell history and the process list. Bad arguments exit 2, an existing connection 1.
/// </summary>
internal static class ConnectionsCli
{
    private static readonly Lock Gate = new();
    private static bool _registered;

    /// <summary>Adds the verb to <see cref="CliRunner"/>; once per process, whatever the number of hosts built.</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (!_registered)
            {
                CliRunner.Register("connections add",
                    new HashSet<string>(["type", "id", "name", "settings-json", "secrets-json"], StringComparer.Ordinal), AddAsync);
                _registered = true;
            }
        }
    }

    private static async Task<int> AddAsync(CliArguments args, IServiceProvider services, TextWriter stdout, CancellationToken ct)
    {
        var type = args.Required("type");
        var id = args.Required("id");
        var name = args.Optional("name");
        var settingsText = args.Optional("settings-json");
        var secretsText = args.Optional("secrets-json");
        if (secretsText == "-")
        {
            secretsText = await (CliRunner.StdinOf(services) ?? TextReader.Null).ReadToEndAsync(ct);
        }

        var settings = ParseJson(settingsText, "--settings-json");
        var secrets = ParseJson(secretsText, "--secrets-json");
        var errors = new FieldErrors();
        var connections = services.GetRequiredService<ConnectionService>();
        var draft = connections.Check(type, id, name, settings, secrets, errors);
        CliRunner.ThrowIfInvalid(errors);

        var connection = await connections.CreateAsync(draft!, null, ct)
            ?? throw new CliRefusedException($"a {type} connection with id '{id}' already exists.");
        await stdout.WriteLineAsync(connection.Key);
        return 0;
    }

    /// <summary>The option's JSON; the error never quotes it (it may hold secrets).</summary>
    private static JsonElement? ParseJson(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new CliUsageException($"{option} is not valid JSON (give an object such as '{{\"host\": \"db.example.com\"}}').");
        }
    }
}

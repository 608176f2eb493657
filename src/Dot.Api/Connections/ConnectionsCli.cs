using System.CommandLine;
using System.Text.Json;
using Dot.Api.Cli;
using Dot.Api.Validation;

namespace Dot.Api.Connections;

/// <summary>
/// <c>dot-api connections add --type T --id ID [--name N] [--settings-json JSON] [--secrets-json JSON|-]</c>:
/// prints "type/id". <c>--secrets-json -</c> reads the secrets from standard input, so they stay out of the
/// shell history and the process list. Bad arguments exit 2, an existing connection 1.
/// </summary>
internal sealed class ConnectionsCli : ICliCommands
{
    private static readonly Option<string> Type = CliCommands.Text("--type", "The connector type, e.g. postgres or dbt.", required: true);
    private static readonly Option<string> Id = CliCommands.Text("--id", "The connection's id, unique for its type.", required: true);
    private static readonly Option<string> Name = CliCommands.Text("--name", "The display name.");
    private static readonly Option<string> SettingsJson = CliCommands.Text("--settings-json", "The settings, as a JSON object.");
    private static readonly Option<string> SecretsJson = CliCommands.Text("--secrets-json", "The secrets, as a JSON object; - reads them from standard input.");

    /// <summary>Adds <c>connections add</c> to the command line.</summary>
    public void AddTo(RootCommand root)
        => root.Group("connections", "Connections to the systems Dot syncs from.")
            .Verb("add", "Add a connection; prints type/id.", AddAsync, Type, Id, Name, SettingsJson, SecretsJson);

    private static async Task<int> AddAsync(ParseResult parse, CliContext cli, CancellationToken ct)
    {
        var type = parse.GetRequiredValue(Type);
        var id = parse.GetRequiredValue(Id);
        var name = parse.GetValue(Name);
        var settingsText = parse.GetValue(SettingsJson);
        var secretsText = parse.GetValue(SecretsJson);
        if (secretsText == "-")
        {
            secretsText = await cli.Stdin.ReadToEndAsync(ct);
        }

        var settings = ParseJson(settingsText, "--settings-json");
        var secrets = ParseJson(secretsText, "--secrets-json");
        var errors = new FieldErrors();
        var connections = cli.Get<ConnectionService>();
        var draft = connections.Check(type, id, name, settings, secrets, errors);
        CliCommands.ThrowIfInvalid(errors);

        var connection = await connections.CreateAsync(draft!, null, ct)
            ?? throw new CliRefusedException($"a {type} connection with id '{id}' already exists.");
        await cli.Stdout.WriteLineAsync(connection.Key);
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

using System.Text.Json;
using Dot.Api.Connectors;

namespace Dot.Api.Connections;

/// <summary>
/// <c>POST /api/connections</c>. <c>settings</c> and <c>secrets</c> are read as raw JSON so that each
/// wrong value is reported under its own field (<c>settings.port</c>), not as an unreadable body.
/// </summary>
public sealed record CreateConnectionRequest(
    string? Type,
    string? Id,
    string? Name,
    JsonElement? Settings,
    JsonElement? Secrets);

/// <summary>A connection as the API shows it: its settings, and of its secrets only the names.</summary>
public sealed record ConnectionDto(
    string Type,
    string Id,
    string Name,
    IReadOnlyDictionary<string, JsonElement> Settings,
    IReadOnlyList<string> SecretNames,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>A validated connection, before it is stored: what the API and the CLI both hand to <see cref="ConnectionService"/>.</summary>
public sealed record ConnectionDraft(
    string Type,
    string Id,
    string Name,
    IReadOnlyDictionary<string, JsonElement> Settings,
    IReadOnlyDictionary<string, string> Secrets);

internal static class ConnectionMapping
{
    /// <summary>
    /// The connection as the API shows it: as <see cref="ToDto"/>, with the user info and query of URL-valued settings
    /// masked (<see cref="SettingUrls"/>). Such values are refused at creation; a connection stored before keeps them, and
    /// its password must not come back in an answer.
    /// </summary>
    public static ConnectionDto ToResponse(this Connection c)
    {
        var dto = c.ToDto();
        var settings = dto.Settings.ToDictionary(
            s => s.Key,
            s => s.Value.ValueKind == JsonValueKind.String && SettingUrls.HasCredentials(s.Key, s.Value.GetString()!)
                ? JsonSerializer.SerializeToElement(SettingUrls.Redact(s.Key, s.Value.GetString()!))
                : s.Value,
            StringComparer.Ordinal);
        return dto with { Settings = settings };
    }

    /// <summary>The connection with its settings as stored: what a connector is given.</summary>
    public static ConnectionDto ToDto(this Connection c) => new(
        c.Type,
        c.Id,
        c.Name,
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(c.Settings) ?? [],
        JsonSerializer.Deserialize<List<string>>(c.SecretNames) ?? [],
        c.CreatedAt,
        c.UpdatedAt);
}

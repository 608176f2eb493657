using System.Text.Json;

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
    public static ConnectionDto ToDto(this Connection c) => new(
        c.Type,
        c.Id,
        c.Name,
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(c.Settings) ?? [],
        JsonSerializer.Deserialize<List<string>>(c.SecretNames) ?? [],
        c.CreatedAt,
        c.UpdatedAt);
}

using System.Globalization;
using System.Text.Json;

namespace Dot.Api.Connectors;

/// <summary>
/// Reads a connection's settings for a connector. A wrong value fails the run with a message that names the
/// setting (settings are not secret, but the message quotes no value anyway).
/// </summary>
internal sealed class ConnectorSettings(string type, IReadOnlyDictionary<string, JsonElement> settings)
{
    public bool Has(string name) => settings.ContainsKey(name);

    /// <summary>The first of <paramref name="names"/> that is set, as text (numbers and booleans as written); null when none is.</summary>
    public string? Text(params string[] names)
    {
        foreach (var name in names)
        {
            if (settings.TryGetValue(name, out var value))
            {
                var text = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                    _ => null,
                };
                if (!string.IsNullOrWhiteSpace(text))
                {
                    return text.Trim();
                }
            }
        }

        return null;
    }

    /// <summary>A whole number (a JSON number or a numeric string) in [<paramref name="min"/>, <paramref name="max"/>], or <paramref name="fallback"/> when unset.</summary>
    public int Integer(string name, int fallback, int min, int max)
    {
        var text = Text(name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new SyncFailedException($"the {type} setting {name} must be a whole number from {min} to {max}.");
        }

        return value;
    }
}

using System.Text.Json;
using Dot.Api.Connectors;
using Dot.Api.Validation;

namespace Dot.Api.Connections;

/// <summary>
/// The checks every connection passes before it is stored, whatever its type and whoever sends it (the API's
/// <c>POST /api/connections</c>, the CLI's <c>connections add</c>, both through <see cref="ConnectionService.Check"/>):
/// a known type, an id slug, a name, settings in the clear that hold no secret, secrets as strings, within limits.
/// Secret names are free, and a few mean something to the server itself: on any type, <see cref="WebhookSecretName"/>
/// (<c>webhook_secret</c>) makes every sync trigger of the connection carry dbt Cloud's webhook signature
/// (checked by the sync feature); as a setting it is refused, like every name that looks secret.
/// </summary>
public static class ConnectionValidation
{
    public const int MaxKeyLength = 100;
    public const int MaxSettings = 100;
    public const int MaxSettingLength = 4000;
    public const int MaxSecrets = 50;
    public const int MaxSecretLength = 16384;

    /// <summary>
    /// The secret that makes sync triggers of the connection need a webhook signature (API.md §4, "Verified webhooks").
    /// Its home is here, with the other rules on secret names, so the sync feature reads it and this one knows no sync.
    /// </summary>
    public const string WebhookSecretName = "webhook_secret";

    /// <summary>Setting names that say "I am a secret": such a value belongs in <c>secrets</c>, encrypted.</summary>
    private static readonly string[] SecretWords = ["password", "passwd", "secret", "privatekey", "apikey", "credential"];

    /// <summary>
    /// Checks a connection as a client sent it; adds errors keyed by snake_case field
    /// (<c>type</c>, <c>id</c>, <c>settings.port</c>, <c>secrets.password</c>) and returns null when any.
    /// </summary>
    public static ConnectionDraft? Validate(string? type, string? id, string? name, JsonElement? settings, JsonElement? secretValues,
        FieldErrors errors)
    {
        if (string.IsNullOrEmpty(type))
        {
            errors.Add("type", $"type is required: one of {ConnectionTypes.Listed}.");
        }
        else if (!ConnectionTypes.IsKnown(type))
        {
            errors.Add("type", $"type must be one of {ConnectionTypes.Listed}.");
        }

        if (string.IsNullOrEmpty(id))
        {
            errors.Add("id", "id is required: a slug such as my-bg-id.");
        }
        else if (!ConnectionTypes.IsSlug(id))
        {
            errors.Add("id", $"id must be 1 to {ConnectionTypes.MaxIdLength} lowercase letters, digits, '-' or '_' (such as my-bg-id).");
        }

        if (name is not null && (string.IsNullOrWhiteSpace(name) || name.Length > Connection.MaxNameLength || name.Any(char.IsControl)))
        {
            errors.Add("name", $"name must be 1 to {Connection.MaxNameLength} characters, without control characters.");
        }

        var settingValues = ReadSettings(settings, errors);
        var secretMap = ReadSecrets(secretValues, errors);
        foreach (var key in secretMap.Keys.Where(settingValues.ContainsKey))
        {
            errors.Add($"secrets.{key}", $"'{key}' is both a setting and a secret: give it once.");
        }

        return errors.IsEmpty
            ? new ConnectionDraft(type!, id!, string.IsNullOrWhiteSpace(name) ? id! : name.Trim(), settingValues, secretMap)
            : null;
    }

    private static Dictionary<string, JsonElement> ReadSettings(JsonElement? settings, FieldErrors errors)
    {
        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (settings is not { ValueKind: not JsonValueKind.Null } element)
        {
            return result;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add("settings", "settings must be a JSON object whose values are strings, numbers or booleans.");
            return result;
        }

        foreach (var property in element.EnumerateObject())
        {
            var field = $"settings.{property.Name}";
            if (!CheckKey(property.Name, "settings", result.Count, MaxSettings, result.ContainsKey(property.Name), errors))
            {
                continue;
            }

            if (LooksSecret(property.Name))
            {
                errors.Add(field, $"'{property.Name}' looks like a secret: send it in secrets, which are stored encrypted and never returned.");
                continue;
            }

            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String when property.Value.GetString()!.Length > MaxSettingLength:
                    errors.Add(field, $"{field} must be at most {MaxSettingLength} characters.");
                    break;
                case JsonValueKind.String when SettingUrls.HasCredentials(property.Name, property.Value.GetString()!):
                    // The message never quotes the value: it holds the credential.
                    errors.Add(field, $"{field} must not hold a user name, a password or a query string: settings are stored in the clear "
                        + "and shown by the API. Put the credential in the connection's secrets instead (for dbt: the secret manifest_token "
                        + "or authorization, or the whole signed URL as the secret manifest_url).");
                    break;
                case JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    result[property.Name] = property.Value.Clone();
                    break;
                default:
                    errors.Add(field, $"{field} must be a string, a number or a boolean.");
                    break;
            }
        }

        return result;
    }

    private static Dictionary<string, string> ReadSecrets(JsonElement? secretValues, FieldErrors errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (secretValues is not { ValueKind: not JsonValueKind.Null } element)
        {
            return result;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add("secrets", "secrets must be a JSON object whose values are strings.");
            return result;
        }

        foreach (var property in element.EnumerateObject())
        {
            var field = $"secrets.{property.Name}";
            if (!CheckKey(property.Name, "secrets", result.Count, MaxSecrets, result.ContainsKey(property.Name), errors))
            {
                continue;
            }

            // The messages name the field, never the value.
            if (property.Value.ValueKind != JsonValueKind.String || property.Value.GetString() is not { Length: > 0 } value)
            {
                errors.Add(field, $"{field} must be a non-empty string.");
            }
            else if (value.Length > MaxSecretLength)
            {
                errors.Add(field, $"{field} must be at most {MaxSecretLength} characters.");
            }
            else
            {
                result[property.Name] = value;
            }
        }

        return result;
    }

    private static bool CheckKey(string key, string group, int count, int max, bool duplicate, FieldErrors errors)
    {
        if (key.Length is 0 or > MaxKeyLength || key.Any(char.IsControl))
        {
            errors.Add(group, $"every name in {group} must be 1 to {MaxKeyLength} characters, without control characters.");
            return false;
        }

        if (duplicate)
        {
            errors.Add($"{group}.{key}", $"{group}.{key} is given twice.");
            return false;
        }

        if (count >= max)
        {
            errors.Add(group, $"{group} may have at most {max} entries.");
            return false;
        }

        return true;
    }

    private static bool LooksSecret(string key)
    {
        var squashed = new string(key.Where(char.IsAsciiLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
        return SecretWords.Any(w => squashed.Contains(w, StringComparison.Ordinal)) || squashed.EndsWith("token", StringComparison.Ordinal);
    }
}

using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Dot.Api.Audit;
using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Connections;

/// <summary>Told when a connection is deleted, inside the deleting transaction (the sync runs use it).</summary>
public interface IConnectionDeletionHandler
{
    Task OnDeletedAsync(string type, string id, CancellationToken cancellationToken);
}

/// <summary>
/// A rule a connection type adds to creation (the dbt connector's on <c>manifest_path</c>, say): adds errors keyed by
/// the field as the client sent it (<c>settings.manifest_path</c>).
/// </summary>
public interface IConnectionSettingsRule
{
    void Check(ConnectionDraft draft, FieldErrors errors);
}

/// <summary>Connections and their rules, for the API and the CLI alike.</summary>
public sealed class ConnectionService(
    DotDbContext db,
    ConnectionSecrets secrets,
    TimeProvider time,
    IEnumerable<IConnectionDeletionHandler> deletionHandlers,
    IEnumerable<IConnectionSettingsRule> settingsRules,
    AuditLog audit)
{
    public const int MaxNameLength = 200;
    public const int MaxKeyLength = 100;
    public const int MaxSettings = 100;
    public const int MaxSettingLength = 4000;
    public const int MaxSecrets = 50;
    public const int MaxSecretLength = 16384;

    /// <summary>Setting names that say "I am a secret": such a value belongs in <c>secrets</c>, encrypted.</summary>
    private static readonly string[] SecretWords = ["password", "passwd", "secret", "privatekey", "apikey", "credential"];

    /// <summary>
    /// <see cref="Validate"/>, then the rules of the <see cref="IConnectionSettingsRule"/>s (this server's settings, such
    /// as <c>Dot:Connectors:AllowManifestPath</c>): what the API and the CLI check before <see cref="CreateAsync"/>.
    /// </summary>
    public ConnectionDraft? Check(string? type, string? id, string? name, JsonElement? settings, JsonElement? secretValues, FieldErrors errors)
    {
        var draft = Validate(type, id, name, settings, secretValues, errors);
        if (draft is null)
        {
            return null;
        }

        foreach (var rule in settingsRules)
        {
            rule.Check(draft, errors);
        }

        return errors.IsEmpty ? draft : null;
    }

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

        if (name is not null && (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name.Any(char.IsControl)))
        {
            errors.Add("name", $"name must be 1 to {MaxNameLength} characters, without control characters.");
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

    /// <summary>Stores a new connection, its secrets encrypted; null when (type, id) is taken (decided by the primary key).</summary>
    public async Task<Connection?> CreateAsync(ConnectionDraft draft, Guid? createdBy, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var connection = new Connection
        {
            Type = draft.Type,
            Id = draft.Id,
            Name = draft.Name,
            Settings = JsonSerializer.Serialize(draft.Settings),
            SecretNames = JsonSerializer.Serialize(draft.Secrets.Keys.Order(StringComparer.Ordinal)),
            Secrets = secrets.Protect(draft.Type, draft.Id, draft.Secrets),
            CreatedAt = now,
            UpdatedAt = now,
            CreatedBy = createdBy,
        };
        db.Connections.Add(connection);
        var created = audit.Add(AuditEventTypes.ConnectionCreated, null, connection.Key, connection.Name);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            db.Entry(connection).State = EntityState.Detached;
            db.Entry(created).State = EntityState.Detached;
            return null;
        }

        return connection;
    }

    /// <summary>Ordered by (type, id); <paramref name="after"/> is the last key of the previous page.</summary>
    public async Task<List<Connection>> ListAsync(string? type, int limit, (string Type, string Id)? after, CancellationToken cancellationToken)
    {
        var query = db.Connections.AsNoTracking();
        if (type is not null)
        {
            query = query.Where(c => c.Type == type);
        }

        if (after is { } a)
        {
            query = query.Where(c => c.Type.CompareTo(a.Type) > 0 || (c.Type == a.Type && c.Id.CompareTo(a.Id) > 0));
        }

        return await query.OrderBy(c => c.Type).ThenBy(c => c.Id).Take(limit).ToListAsync(cancellationToken);
    }

    public Task<Connection?> FindAsync(string type, string id, CancellationToken cancellationToken)
        => db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Type == type && c.Id == id, cancellationToken);

    public Task<bool> ExistsAsync(string type, string id, CancellationToken cancellationToken)
        => db.Connections.AnyAsync(c => c.Type == type && c.Id == id, cancellationToken);

    /// <summary>Deletes a connection and tells the <see cref="IConnectionDeletionHandler"/>s, in one transaction; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string type, string id, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var deleted = await db.Connections.Where(c => c.Type == type && c.Id == id).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return false;
        }

        foreach (var handler in deletionHandlers)
        {
            await handler.OnDeletedAsync(type, id, cancellationToken);
        }

        audit.Add(AuditEventTypes.ConnectionDeleted, null, $"{type}/{id}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>An opaque page cursor: base64url of "type/id".</summary>
    public static string EncodeCursor(Connection last)
        => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(last.Key));

    public static bool TryDecodeCursor(string? text, out (string Type, string Id)? after)
    {
        after = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split('/');
            if (parts.Length == 2 && ConnectionTypes.IsKnown(parts[0]) && ConnectionTypes.IsSlug(parts[1]))
            {
                after = (parts[0], parts[1]);
                return true;
            }
        }
        catch (FormatException)
        {
        }

        return false;
    }
}

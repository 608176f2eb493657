using System.Text.Json;
using Dot.Api.Audit;
using Dot.Api.Connectors;
using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Dot.Api.Validation;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Connections;

/// <summary>Told when a connection is deleted, inside the deleting transaction (the sync runs use it).</summary>
public interface IConnectionDeletionHandler
{
    Task OnDeletedAsync(string type, string id, CancellationToken cancellationToken);
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
    /// <summary>The longest name (and the column's width); the rules are <see cref="ConnectionValidation"/>'s.</summary>

    /// <summary>
    /// <see cref="ConnectionValidation.Validate"/>, then the rules of the <see cref="IConnectionSettingsRule"/>s (this
    /// server's settings, such as <c>Dot:Connectors:AllowManifestPath</c>): what the API and the CLI check before
    /// <see cref="CreateAsync"/>.
    /// </summary>
    public ConnectionDraft? Check(string? type, string? id, string? name, JsonElement? settings, JsonElement? secretValues, FieldErrors errors)
    {
        var draft = ConnectionValidation.Validate(type, id, name, settings, secretValues, errors);
        if (draft is null)
        {
            return null;
        }

        foreach (var rule in settingsRules)
        {
            rule.Check(draft.Type, draft.Settings, errors);
        }

        return errors.IsEmpty ? draft : null;
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
        catch (DbUpdateException ex) when (db.IsUniqueViolation(ex))
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

        // Ordinal order, not the database's collation (an en_US PostgreSQL ignores '-' and '_' at first): the
        // cursor's comparison and the order must agree on every store, or a page skips or repeats rows.
        var ordinal = db.OrdinalCollation;
        if (after is { } a)
        {
            query = query.Where(c => EF.Functions.Collate(c.Type, ordinal).CompareTo(a.Type) > 0
                || (c.Type == a.Type && EF.Functions.Collate(c.Id, ordinal).CompareTo(a.Id) > 0));
        }

        return await query.OrderBy(c => EF.Functions.Collate(c.Type, ordinal)).ThenBy(c => EF.Functions.Collate(c.Id, ordinal))
            .Take(limit).ToListAsync(cancellationToken);
    }

    public Task<Connection?> FindAsync(string type, string id, CancellationToken cancellationToken)
        => db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Type == type && c.Id == id, cancellationToken);

    public Task<bool> ExistsAsync(string type, string id, CancellationToken cancellationToken)
        => db.Connections.AnyAsync(c => c.Type == type && c.Id == id, cancellationToken);

    /// <summary>Deletes a connection and tells the <see cref="IConnectionDeletionHandler"/>s, in one transaction; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string type, string id, CancellationToken cancellationToken)
    {
        return await db.TransactAsync(async (transaction, ct) =>
        {
            var deleted = await db.Connections.Where(c => c.Type == type && c.Id == id).ExecuteDeleteAsync(ct);
            if (deleted == 0)
            {
                return false;
            }

            foreach (var handler in deletionHandlers)
            {
                await handler.OnDeletedAsync(type, id, ct);
            }

            audit.Add(AuditEventTypes.ConnectionDeleted, null, $"{type}/{id}");
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>The list's sort key (type, id) as cursor parts: a known type and a slug, or not a cursor of ours.</summary>
    public static readonly KeysetKey<(string Type, string Id)> PageKey = new(
        k => [k.Type, k.Id],
        static (string[] parts, out (string Type, string Id) key) =>
        {
            var ok = parts.Length == 2 && ConnectionTypes.IsKnown(parts[0]) && ConnectionTypes.IsSlug(parts[1]);
            key = ok ? (parts[0], parts[1]) : default;
            return ok;
        });
}

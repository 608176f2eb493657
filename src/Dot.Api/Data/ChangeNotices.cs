using System.Globalization;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Dot.Api.Data;

/// <summary>The PostgreSQL notification channels the instances of one deployment speak on.</summary>
public static class NotificationChannels
{
    /// <summary>A token or a user changed: every instance drops what it cached of it (<see cref="ChangeNotice"/>).</summary>
    public const string Changes = "dot_changes";

    /// <summary>Refused credentials, counted per client by each instance and shared so the deployment has one budget.</summary>
    public const string AuthFailures = "dot_auth_failures";

    /// <summary>PostgreSQL refuses a payload of 8000 bytes or more.</summary>
    public const int MaxPayloadBytes = 7999;
}

/// <summary>
/// What changed, as a short text: <c>t:</c> and the token's SHA-256 in hex (the hash, never the secret), or <c>u:</c>
/// and a user's id. It is what the handlers read; on <see cref="NotificationChannels.Changes"/> it travels sealed
/// (<see cref="NoticeSeal"/>).
/// </summary>
public readonly record struct ChangeNotice(string Payload)
{
    public static ChangeNotice Token(byte[] hash) => new("t:" + Convert.ToHexStringLower(hash));

    public static ChangeNotice User(Guid userId) => new("u:" + userId.ToString("D", CultureInfo.InvariantCulture));

    /// <summary>The token hash a payload names, or null when it names something else (or nothing readable).</summary>
    public static byte[]? TokenHash(string payload)
    {
        if (!payload.StartsWith("t:", StringComparison.Ordinal) || payload.Length != 2 + 64)
        {
            return null;
        }

        try
        {
            return Convert.FromHexString(payload.AsSpan(2));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The user id a payload names, or null.</summary>
    public static Guid? UserId(string payload)
        => payload.StartsWith("u:", StringComparison.Ordinal) && Guid.TryParse(payload.AsSpan(2), out var id) ? id : null;
}

/// <summary>
/// The one path by which a change of a token or a user is published, on both stores and for every kind of change
/// (revoke, rotation, role, disabled flag, password, deletion): <see cref="PublishAsync"/> in the transaction that
/// makes the change. Where other instances share the store (PostgreSQL) the notice is sent in that transaction, so every instance receives it on commit and
/// only then; on this instance the handlers of <see cref="NotificationChannels.Changes"/> apply it right after the
/// commit (<see cref="ChangesOnCommit"/>), never before: a request that reads the store between the write and the
/// commit cannot put the old state back in a cache after the eviction (API.md §7).
/// </summary>
public static class ChangeNotifications
{
    /// <summary>
    /// Publishes the notice in the current transaction (the caller opened one, and commits it). Only within a
    /// transaction: outside one the notice would be applied before the change is written.
    /// </summary>
    public static async Task PublishAsync(this DotDbContext db, ChangeNotice notice, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A change notice is published in the transaction that makes the change.");
        }

        db.PendingChanges.Add(notice);
        var store = db.GetService<IStoreProvider>();
        if (store.NotifiesOtherInstances)
        {
            // Sealed (NoticeSeal): another session of the database can NOTIFY, but cannot forge or replay a notice.
            var payload = db.GetService<NoticeSeal>().Seal(NotificationChannels.Changes, notice.Payload);
            await store.NotifyInTransactionAsync(db, NotificationChannels.Changes, payload, cancellationToken);
        }
    }

    /// <summary>
    /// <c>SaveChangesAsync</c>, with the notice published in the same transaction: the caller's when there is one (it is
    /// applied when the caller commits), else one of its own. The own one runs in the execution strategy the way EF
    /// Core documents for retries: changes are accepted only after the commit, so a retried attempt writes them again.
    /// (Not <see cref="Transactions.TransactAsync{T}"/>: that starts a retry on a cleared change tracker, which would
    /// forget the very change being saved.)
    /// </summary>
    public static async Task SaveChangesAndPublishAsync(this DotDbContext db, ChangeNotice notice, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            await db.SaveChangesAsync(cancellationToken);
            await db.PublishAsync(notice, cancellationToken);
            return;
        }

        await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await db.SaveChangesAsync(acceptAllChangesOnSuccess: false, ct);
            await db.PublishAsync(notice, ct);
            await transaction.CommitAsync(ct);
        }, cancellationToken);
        db.ChangeTracker.AcceptAllChanges();
    }
}

/// <summary>
/// Applies the changes a transaction published, on this instance, once the transaction has ended: committed, or failed
/// in a way that leaves the outcome unknown (an eviction is always safe: it costs one lookup). A rolled-back
/// transaction changed nothing, and its notices are dropped. The handlers are the ones the PostgreSQL listener calls
/// for the other instances' notices (<see cref="INotificationHandler"/> of <see cref="NotificationChannels.Changes"/>),
/// so a change is applied by the same code wherever it was made.
/// </summary>
public sealed class ChangesOnCommit(IEnumerable<INotificationHandler> handlers) : DbTransactionInterceptor
{
    private readonly INotificationHandler[] _handlers = [.. handlers.Where(h => h.Channel == NotificationChannels.Changes)];

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Apply(eventData.Context);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(eventData.Context);
        return Task.CompletedTask;
    }

    public override void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Apply(eventData.Context);

    public override Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(eventData.Context);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Drop(eventData.Context);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Drop(eventData.Context);
        return Task.CompletedTask;
    }

    private void Apply(DbContext? context)
    {
        if (context is not DotDbContext { PendingChanges.Count: > 0 } db)
        {
            return;
        }

        var notices = db.PendingChanges.ToArray();
        db.PendingChanges.Clear();
        foreach (var notice in notices)
        {
            foreach (var handler in _handlers)
            {
                handler.Notified(notice.Payload);
            }
        }
    }

    private static void Drop(DbContext? context)
    {
        if (context is DotDbContext db)
        {
            db.PendingChanges.Clear();
        }
    }
}

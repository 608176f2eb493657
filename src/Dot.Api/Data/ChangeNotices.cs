using System.Globalization;
using Microsoft.EntityFrameworkCore;

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
/// What changed, as the short text sent on <see cref="NotificationChannels.Changes"/>: <c>t:</c> and the token's
/// SHA-256 in hex (the hash, never the secret), or <c>u:</c> and a user's id.
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
/// Sends a <see cref="ChangeNotice"/> in the transaction that makes the change, so PostgreSQL delivers it on commit
/// and only then (a rolled-back change tells nobody). On SQLite there is one instance and nothing is sent.
/// </summary>
public static class ChangeNotifications
{
    /// <summary>
    /// Queues the notice in the current transaction (the caller opened one, and commits it). Only within a
    /// transaction: outside one the notice would be delivered before the change is written.
    /// </summary>
    public static async Task NotifyAsync(this DotDbContext db, ChangeNotice notice, CancellationToken cancellationToken)
    {
        if (!db.Database.IsNpgsql())
        {
            return;
        }

        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A change notice is sent in the transaction that makes the change.");
        }

        var payload = Microsoft.EntityFrameworkCore.Infrastructure.AccessorExtensions.GetService<NoticeSeal>(db).Seal(NotificationChannels.Changes, notice.Payload);
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({NotificationChannels.Changes}, {payload})", cancellationToken);
    }

    /// <summary>
    /// <c>SaveChangesAsync</c>, with the notice in the same transaction: the caller's when there is one (it is
    /// delivered when the caller commits), else one of its own. The own one runs in the execution strategy the
    /// way EF Core documents for retries: changes are accepted only after the commit, so a retried attempt writes
    /// them again. (Not <see cref="Transactions.TransactAsync{T}"/>: that starts a retry on a cleared change
    /// tracker, which would forget the very change being saved.)
    /// </summary>
    public static async Task SaveChangesAndNotifyAsync(this DotDbContext db, ChangeNotice notice, CancellationToken cancellationToken)
    {
        if (!db.Database.IsNpgsql() || db.Database.CurrentTransaction is not null)
        {
            await db.SaveChangesAsync(cancellationToken);
            await db.NotifyAsync(notice, cancellationToken);
            return;
        }

        await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await db.SaveChangesAsync(acceptAllChangesOnSuccess: false, ct);
            await db.NotifyAsync(notice, ct);
            await transaction.CommitAsync(ct);
        }, cancellationToken);
        db.ChangeTracker.AcceptAllChanges();
    }
}

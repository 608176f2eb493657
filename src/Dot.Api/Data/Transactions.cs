using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Dot.Api.Data;

/// <summary>
/// Every explicit transaction of the product runs through <see cref="TransactAsync{T}"/>: inside the context's
/// execution strategy, so it works when a retrying strategy is on (PostgreSQL's is: a transaction cut by a failover
/// or a restart is run again from its start, on a fresh change tracker, instead of answering 500). The work commits
/// the transaction itself; work that returns without committing is rolled back.
/// </summary>
public static class Transactions
{
    public static Task<T> TransactAsync<T>(this DotDbContext db, Func<IDbContextTransaction, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken, string? lockName = null, IsolationLevel? isolation = null)
    {
        var attempt = 0;
        return db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            if (attempt++ > 0)
            {
                db.ChangeTracker.Clear(); // what the failed attempt added or changed is not the database's
            }

            await using var transaction = isolation is { } level
                ? await db.Database.BeginTransactionAsync(level, ct)
                : await db.Database.BeginTransactionAsync(ct);
            if (lockName is not null)
            {
                await db.TakeWriteLockAsync(lockName, ct);
            }

            return await work(transaction, ct);
        }, cancellationToken);
    }

    /// <summary>
    /// Work that cannot be run twice (a response already streaming) in the strategy: a failure after
    /// <paramref name="started"/> says so is not retried.
    /// </summary>
    public static Task<T> RunOnceStartedAsync<T>(this DotDbContext db, Func<CancellationToken, Task<T>> work, Func<bool> started,
        CancellationToken cancellationToken)
        => db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            try
            {
                return await work(ct);
            }
            catch (Exception ex) when (started() && ex is not OperationCanceledException)
            {
                throw new NotRetriedException(ex);
            }
        }, cancellationToken);
}

/// <summary>A failure the execution strategy must not retry, because part of the work has left the process.</summary>
public sealed class NotRetriedException(Exception inner) : Exception("The operation failed after its output began.", inner);

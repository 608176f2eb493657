using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Dot.Api.Data;

/// <summary>Recognises the database's own verdicts, whichever the store (<see cref="IStoreProvider"/> reads its errors).</summary>
public static class DbErrors
{
    /// <summary>Whether a save of <paramref name="db"/> failed because a unique index or primary key already holds the value.</summary>
    public static bool IsUniqueViolation(this DotDbContext db, DbUpdateException exception)
        => db.GetService<IStoreProvider>().IsUniqueViolation(exception);
}

using Dot.Api.Access;
using Dot.Api.Data;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Sync;

/// <summary>The narrow scope that reads a run: <c>sync:&lt;type&gt;/&lt;id&gt;</c> of the run's connection, looked up only for a token that lacks <c>sync</c>.</summary>
internal static class SyncRunScope
{
    public const string Pattern = "sync:<type>/<id> of the run's connection";

    /// <summary>The refusal's sentence: it names neither the run's connection nor whether the run exists.</summary>
    public const string Refusal = "Forbidden: the token's scopes do not cover that sync run; reading it needs 'sync', or sync:<type>/<id> of the run's connection.";

    public static async ValueTask<string?> OfRunAsync(HttpContext context)
    {
        if (!Guid.TryParse(context.GetRouteValue("sync_id") as string, out var id))
        {
            return null;
        }

        var db = context.RequestServices.GetRequiredService<DotDbContext>();
        var run = await db.SyncRuns.AsNoTracking().Where(r => r.Id == id)
            .Select(r => new { r.ConnectionType, r.ConnectionId })
            .FirstOrDefaultAsync(context.RequestAborted);
        return run is null ? null : Scopes.SyncOf(run.ConnectionType, run.ConnectionId);
    }
}

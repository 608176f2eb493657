using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Dot.Api.Data.Sqlite;

/// <summary>
/// The store on SQLite (the default): one file, one machine. Its migrations (<c>Migrations/</c>) and compiled model
/// (<c>CompiledModel/</c>, found through its assembly attribute) are in this assembly, its migrations assembly
/// (<see cref="UseMigrationsHere"/>).
/// </summary>
public sealed class SqliteDotDbContext(DbContextOptions<SqliteDotDbContext> options) : DotDbContext(options)
{
    /// <summary>Binary, by code unit: SQLite's BINARY collation.</summary>
    public override string OrdinalCollation => "BINARY";

    /// <summary>This assembly holds the context's migrations (as it would by default: said once, for the server and the tools alike).</summary>
    internal static void UseMigrationsHere(SqliteDbContextOptionsBuilder sqlite)
        => sqlite.MigrationsAssembly(typeof(SqliteDotDbContext).Assembly.GetName().Name);
}

/// <summary>
/// For <c>dotnet ef migrations add … --project src/Dot.Api.Data.Sqlite</c> (docs/scale-out.md): the model needs no database.
/// </summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteDotDbContext>
{
    public SqliteDotDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<SqliteDotDbContext>()
            .UseSqlite(SqliteStore.DefaultConnectionString, SqliteDotDbContext.UseMigrationsHere).Options);
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Dot.Api.Data.Sqlite;

/// <summary>The store on SQLite (the default): one file, one machine. Its migrations are in <c>Data/Sqlite/Migrations</c>.</summary>
public sealed class SqliteDotDbContext(DbContextOptions<SqliteDotDbContext> options) : DotDbContext(options);

/// <summary>For <c>dotnet ef migrations add … --context SqliteDotDbContext</c>: the model needs no database.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteDotDbContext>
{
    public SqliteDotDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<SqliteDotDbContext>().UseSqlite(DataExtensions.DefaultConnectionString).Options);
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure;

namespace Dot.Api.Data.Postgres;

/// <summary>
/// The store on PostgreSQL, for several instances behind a load balancer. Its migrations (<c>Migrations/</c>) and
/// compiled model (<c>CompiledModel/</c>, found through its assembly attribute) are in this assembly, its migrations
/// assembly (<see cref="UseMigrationsHere"/>).
/// </summary>
public sealed class PostgresDotDbContext(DbContextOptions<PostgresDotDbContext> options) : DotDbContext(options)
{
    /// <summary>Binary, by code unit: PostgreSQL's "C" collation.</summary>
    public override string OrdinalCollation => "C";

    /// <summary>This assembly holds the context's migrations (as it would by default: said once, for the server and the tools alike).</summary>
    internal static void UseMigrationsHere(NpgsqlDbContextOptionsBuilder npgsql)
        => npgsql.MigrationsAssembly(typeof(PostgresDotDbContext).Assembly.GetName().Name);
}

/// <summary>
/// For <c>dotnet ef migrations add … --project src/Dot.Api.Data.Postgres</c> (docs/scale-out.md): the model needs no server.
/// </summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresDotDbContext>
{
    public PostgresDotDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<PostgresDotDbContext>()
            .UseNpgsql("Host=127.0.0.1;Database=dot", PostgresDotDbContext.UseMigrationsHere).Options);
}

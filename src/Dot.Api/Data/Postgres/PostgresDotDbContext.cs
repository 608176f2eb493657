using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Dot.Api.Data.Postgres;

/// <summary>The store on PostgreSQL, for several instances behind a load balancer. Its migrations are in <c>Data/Postgres/Migrations</c>.</summary>
public sealed class PostgresDotDbContext(DbContextOptions<PostgresDotDbContext> options) : DotDbContext(options);

/// <summary>For <c>dotnet ef migrations add … --context PostgresDotDbContext</c>: the model needs no server.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresDotDbContext>
{
    public PostgresDotDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<PostgresDotDbContext>().UseNpgsql("Host=127.0.0.1;Database=dot").Options);
}

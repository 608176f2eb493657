using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Data;

public static class DataExtensions
{
    public const string ConnectionStringName = "Dot";
    public const string DefaultConnectionString = "Data Source=dot.db";

    public static string ConnectionString(IConfiguration configuration)
        => configuration.GetConnectionString(ConnectionStringName) ?? DefaultConnectionString;

    public static IServiceCollection AddDotData(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddDbContext<DotDbContext>(o => o.UseSqlite(ConnectionString(configuration)));
        return services;
    }

    /// <summary>Applies the checked-in migrations and puts SQLite in WAL mode (readers never wait for the writer).</summary>
    public static async Task MigrateDotDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }
}

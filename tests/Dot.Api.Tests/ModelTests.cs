using Dot.Api.Data.Postgres;
using Dot.Api.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Tests;

/// <summary>
/// Every change to the model ships a migration for each store. The server does not diff the model against the
/// migrations' snapshot when it migrates (it would cost every start and every CLI command), so this is where a
/// forgotten migration is found.
/// </summary>
public sealed class ModelTests
{
    [Fact]
    public void EveryModelChangeHasAMigrationOnEachStore()
    {
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        Assert.False(sqlite.Database.HasPendingModelChanges(), "the SQLite model has changes without a migration: dotnet ef migrations add … --context SqliteDotDbContext");
        using var postgres = new PostgresDesignTimeFactory().CreateDbContext([]);
        Assert.False(postgres.Database.HasPendingModelChanges(), "the PostgreSQL model has changes without a migration: dotnet ef migrations add … --context PostgresDotDbContext");
    }

    [Fact]
    public void EachStoreHasTheSameMigrations()
    {
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        using var postgres = new PostgresDesignTimeFactory().CreateDbContext([]);
        Assert.Equal(sqlite.Database.GetMigrations(), postgres.Database.GetMigrations());
    }
}

using Dot.Api.Data.Postgres;
using Dot.Api.Data.Postgres.CompiledModel;
using Dot.Api.Data.Sqlite;
using Dot.Api.Data.Sqlite.CompiledModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Dot.Api.Tests;

/// <summary>
/// Every change to the model ships a migration for each store. The server does not diff the model against the
/// migrations' snapshot when it migrates (it would cost every start and every CLI command), so this is where a
/// forgotten migration is found.
/// </summary>
[Trait("Store", "any")]
public sealed class ModelTests
{
    [Fact]
    public void EveryModelChangeHasAMigrationOnEachStore()
    {
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        Assert.False(sqlite.Database.HasPendingModelChanges(), "the SQLite model has changes without a migration: dotnet ef migrations add … --project src/Dot.Api.Data.Sqlite (docs/scale-out.md)");
        using var postgres = new PostgresDesignTimeFactory().CreateDbContext([]);
        Assert.False(postgres.Database.HasPendingModelChanges(), "the PostgreSQL model has changes without a migration: dotnet ef migrations add … --project src/Dot.Api.Data.Postgres (docs/scale-out.md)");
    }

    /// <summary>
    /// Each store's context runs on its compiled model (<c>CompiledModel/</c> of src/Dot.Api.Data.Sqlite and
    /// src/Dot.Api.Data.Postgres, found through their assembly attributes), not on the model the configuration builds: a model change without a
    /// regenerated compiled model would run on the old tables and columns.
    /// </summary>
    [Fact]
    public void TheCompiledSqliteModelIsTheModelTheConfigurationBuilds()
    {
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        AssertCompiledModelIsCurrent<SqliteDotDbContextModel>(sqlite, "--project src/Dot.Api.Data.Sqlite -o CompiledModel -n Dot.Api.Data.Sqlite.CompiledModel");
    }

    /// <inheritdoc cref="TheCompiledSqliteModelIsTheModelTheConfigurationBuilds"/>
    [Fact]
    public void TheCompiledPostgresModelIsTheModelTheConfigurationBuilds()
    {
        using var postgres = new PostgresDesignTimeFactory().CreateDbContext([]);
        AssertCompiledModelIsCurrent<PostgresDotDbContextModel>(postgres, "--project src/Dot.Api.Data.Postgres -o CompiledModel -n Dot.Api.Data.Postgres.CompiledModel");
    }

    private static void AssertCompiledModelIsCurrent<TCompiled>(DbContext context, string optimizeArguments)
    {
        Assert.IsType<TCompiled>(context.Model);
        Assert.True(Shape(context.GetService<IDesignTimeModel>().Model).SequenceEqual(Shape(context.Model)),
            $"the compiled model of {context.GetType().Name} is stale: dotnet ef dbcontext optimize {optimizeArguments}");
    }

    /// <summary>What the store and the mapping are made of: tables, columns, keys, indexes, foreign keys, and each property's type and converter.</summary>
    private static List<string> Shape(IModel model)
    {
        var relational = model.GetRelationalModel();
        var tables = relational.Tables.SelectMany(t =>
            t.Columns.Select(c => $"column {t.Name}.{c.Name} {c.StoreType} null={c.IsNullable}")
                .Concat(t.UniqueConstraints.Select(u => $"unique {t.Name}.{u.Name} ({string.Join(",", u.Columns.Select(c => c.Name))})"))
                .Concat(t.Indexes.Select(i => $"index {t.Name}.{i.Name} ({string.Join(",", i.Columns.Select(c => c.Name))}) unique={i.IsUnique} filter={i.Filter}"))
                .Concat(t.ForeignKeyConstraints.Select(f => $"fk {t.Name}.{f.Name} -> {f.PrincipalTable.Name} {f.OnDeleteAction}")));
        var properties = model.GetEntityTypes().SelectMany(e => e.GetProperties().Select(p =>
            $"property {e.Name}.{p.Name} {p.ClrType} {p.GetValueConverter()?.GetType()} null={p.IsNullable} max={p.GetMaxLength()} concurrency={p.IsConcurrencyToken}"));
        return tables.Concat(properties).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public void EachStoreHasTheSameMigrations()
    {
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        using var postgres = new PostgresDesignTimeFactory().CreateDbContext([]);
        Assert.Equal(sqlite.Database.GetMigrations(), postgres.Database.GetMigrations());
    }
}

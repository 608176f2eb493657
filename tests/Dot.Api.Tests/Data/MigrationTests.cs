using System.Net;
using Dot.Api.Access;
using Dot.Api.Data;
using Dot.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Dot.Api.Tests;

/// <summary>
/// A start migrates a store that lacks a migration of this build, and leaves alone one that has them all (EF Core's
/// migration lock and history setup cost every start and CLI command 100–155 ms; docs/benchmark.md). On the suite's
/// store: SQLite, or PostgreSQL on the PostgreSQL run.
/// </summary>
public sealed class MigrationTests
{
    /// <summary>
    /// EF Core's migrations category: at Information <c>MigrateAsync</c> logs each migration it applies, or that it
    /// applied none (<c>RelationalEventId.MigrationsNotApplied</c>); reading the history logs nothing there.
    /// </summary>
    private const string MigrationsCategory = "Microsoft.EntityFrameworkCore.Migrations";

    [Fact]
    public async Task AStoreOneMigrationBehindIsMigratedAtStartAndAnUpToDateOneIsLeftAlone()
    {
        await using var first = new DotApiFactory().WithSetting($"Logging:LogLevel:{MigrationsCategory}", "Information");
        List<string> all;
        await using (var db = first.OpenStore())
        {
            all = db.Database.GetMigrations().ToList();
            Assert.True(all.Count >= 2);
            await EmptyAsync(first, db);
            await db.GetService<IMigrator>().MigrateAsync(all[^2]);
            Assert.Equal([all[^1]], await db.Database.GetPendingMigrationsAsync());
        }

        var (_, token, client) = await first.CreateCallerAsync("admin@example.com", Role.Admin);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Contains(first.Logs.Entries, e => e.Contains($"{MigrationsCategory}: Applying migration '{all[^1]}'", StringComparison.Ordinal));
        Assert.DoesNotContain(first.Logs.Entries, e => e.Contains($"Applying migration '{all[^2]}'", StringComparison.Ordinal));
        await using (var db = first.OpenStore())
        {
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.Equal(all, await db.Database.GetAppliedMigrationsAsync());
        }

        // A second server on the same, now up-to-date store: it answers, and never ran MigrateAsync.
        await using var second = new DotApiFactory(first.IsPostgres)
            .WithSetting("ConnectionStrings:Dot", first.ConnectionString)
            .WithSetting($"Logging:LogLevel:{MigrationsCategory}", "Information");
        Assert.Equal(HttpStatusCode.OK, (await second.ClientWith(token).GetAsync("/api/auth/me")).StatusCode);
        Assert.DoesNotContain(second.Logs.Entries, e => e.Contains($" {MigrationsCategory}: ", StringComparison.Ordinal));
    }

    /// <summary>The store with nothing in it: PostgreSQL's database copied from the migrated template loses its schema; an SQLite file is not made yet.</summary>
    private static async Task EmptyAsync(DotApiFactory factory, DotDbContext db)
    {
        if (!factory.IsPostgres)
        {
            Assert.False(File.Exists(factory.DatabasePath));
            return;
        }

        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand("DROP SCHEMA public CASCADE; CREATE SCHEMA public;", connection);
        await drop.ExecuteNonQueryAsync();
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetPendingMigrationsAsync());
    }
}

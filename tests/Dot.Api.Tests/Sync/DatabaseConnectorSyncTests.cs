using System.Text;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>
/// The postgres and redshift connectors' syncs through the real pipeline, against the source databases of
/// tests/Dot.Api.Connectors.Tests (<see cref="SourceDatabases"/>) on a throw-away PostgreSQL cluster (the "postgres"
/// collection's), where each connector's own reading is tested by driving it directly. The other connectors:
/// <see cref="ConnectorSyncTests"/>.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class DatabaseConnectorSyncTests(PostgresCluster cluster)
{
    private object Settings(string database) => new
    {
        host = PostgresCluster.Host,
        port = cluster.Port,
        database,
        user = PostgresCluster.Superuser,
        ssl_mode = "disable",
    };

    /// <summary>
    /// Triggered by dbt Cloud's webhook with the token in the URL; the run and the catalogue tell each other apart
    /// (the catalogue names the run that stored it, at its end), and the next sync replaces the catalogue whole.
    /// </summary>
    [SkippableFact]
    public async Task PostgresSyncByAWebhookUrlTokenReplacesTheCatalogue()
    {
        var database = await SourceDatabases.CreatePostgresAsync(cluster);
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (user, token, admin) = await factory.CreateCallerAsync("sync_user@contoso.com", Role.Admin);
        await admin.CreateConnectionAsync("postgres", "warehouse", Settings(database), new { password = cluster.Password });
        var webhook = factory.CreateClient(); // no header: the token is in the URL, as dbt Cloud sends it
        var query = $"?user_id={Uri.EscapeDataString(user.Email)}&api_token={token}";
        var body = """{"eventType": "job.run.completed", "data": {"jobId": "123", "runStatus": "Success"}}""";

        var firstId = await webhook.TriggerSyncAsync("postgres", "warehouse", query, new StringContent(body, Encoding.UTF8, "application/json"));
        var first = await admin.WaitForRunAsync(firstId);
        var firstCatalog = await admin.CatalogAsync("postgres", "warehouse");
        Assert.True(first.Str("status") == "succeeded", first.GetProperty("error").ToString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("error").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, first.GetProperty("started_at").ValueKind);
        Assert.Equal(("postgres", "warehouse"), (firstCatalog.Str("connection_type"), firstCatalog.Str("connection_id")));
        Assert.Equal(firstId, firstCatalog.GetProperty("sync_id").GetGuid());
        Assert.Equal(first.Str("finished_at"), firstCatalog.Str("synced_at"));
        Assert.Equal((4, 6), (first.GetProperty("schemas_count").GetInt32(), first.GetProperty("tables_count").GetInt32()));
        Assert.Contains("sales.customers", firstCatalog.Tables().Keys);

        await cluster.ExecuteAsync(database, """
            DROP TABLE sales.customers CASCADE;
            CREATE TABLE sales.orders (id bigint, amount numeric(10,2));
            COMMENT ON TABLE sales.orders IS 'New this week';
            """);
        var secondId = await webhook.TriggerSyncAsync("postgres", "warehouse", query, new StringContent(body, Encoding.UTF8, "application/json"));
        var second = await admin.WaitForRunAsync(secondId);
        var catalog = await admin.CatalogAsync("postgres", "warehouse");

        Assert.True(second.Str("status") == "succeeded", second.GetProperty("error").ToString());
        Assert.Equal(secondId, catalog.GetProperty("sync_id").GetGuid());
        var tables = catalog.Tables();
        Assert.DoesNotContain("sales.customers", tables.Keys);
        Assert.DoesNotContain("sales.big_customers", tables.Keys);
        Assert.Equal("New this week", tables["sales.orders"].Str("description"));
        Assert.Equal("numeric(10,2)", tables["sales.orders"].GetProperty("columns")[1].Str("data_type"));
        Assert.DoesNotContain(token, factory.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(cluster.Password, factory.Logs.AllText, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task RedshiftSyncStoresTheCatalogueItRead()
    {
        var database = await SourceDatabases.CreateRedshiftAsync(cluster);
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.CreateConnectionAsync("redshift", "warehouse", Settings(database), new { password = cluster.Password });

        var run = await admin.SyncAsync("redshift", "warehouse");
        var catalog = await admin.CatalogAsync("redshift", "warehouse");

        var tables = catalog.Tables();
        Assert.Equal("view", tables["sales.customers_lbv"].Str("kind")); // late-binding, from pg_get_late_binding_view_cols
        Assert.Equal("materialized_view", tables["sales.customer_counts"].Str("kind"));
        Assert.Equal("foreign_table", tables["spectrum.sales_events"].Str("kind"));
        Assert.Equal(tables.Count, run.GetProperty("tables_count").GetInt32());
        factory.AssertNoSecret(run, cluster.Password);
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;
using Npgsql;

namespace Dot.Api.Connectors.Tests;

/// <summary>
/// The redshift connector. No Amazon Redshift runs here: what Redshift shares with PostgreSQL (pg_namespace, pg_class,
/// pg_attribute, format_type, obj_description, col_description) is read for real from the PostgreSQL server of the
/// "postgres" collection (<see cref="PostgresCluster"/>). What only Redshift has is a STAND-IN built in the test
/// database from the shapes Redshift's documentation gives, in a schema <c>redshift_standin</c> put on the database's
/// search_path (on Redshift these live in pg_catalog, which is searched first):
/// <list type="bullet">
/// <item><c>pg_get_late_binding_view_cols()</c>, a set-returning function read through the documented column list
/// <c>cols(view_schema name, view_name name, col_name name, col_type varchar, col_num int)</c>
/// (docs.aws.amazon.com/redshift/latest/dg/PG_GET_LATE_BINDING_VIEW_COLS.html), and the late-binding view itself as
/// pg_class shows it on Redshift: a view with no row in pg_attribute (here a view of zero columns);</item>
/// <item>views <c>svv_external_schemas</c>, <c>svv_external_tables</c>, <c>svv_external_columns</c> with the columns and
/// types of r_SVV_EXTERNAL_SCHEMAS.html, r_SVV_EXTERNAL_TABLES.html and r_SVV_EXTERNAL_COLUMNS.html (the rows follow the
/// pages' examples), and the external schema in pg_namespace as r_PG_EXTERNAL_SCHEMA.html's example joins it;</item>
/// <item><c>svv_mv_info</c> (r_SVV_MV_INFO.html, char(128) columns) and a materialized view as Redshift keeps it: a
/// view over an internal table <c>mv_tbl__NAME__0</c>.</item>
/// </list>
/// These stand-ins (<see cref="SourceDatabases.RedshiftStandIn"/>) test that the connector asks for the documented names
/// and shapes and maps what comes back; they cannot show that a real Redshift answers the same way. The connector is
/// driven directly; through the server: tests/Dot.Api.Tests, Sync/DatabaseConnectorSyncTests.cs.
/// </summary>
[Trait("Store", "any")]
[Collection(PostgresTests.Name)]
public sealed class RedshiftConnectorTests(PostgresCluster cluster)
{
    private Task<string> CreateSourceDatabaseAsync(bool standIn = true) => SourceDatabases.CreateRedshiftAsync(cluster, standIn);

    /// <summary>The cluster has no TLS: ssl_mode disable (Redshift's default is require).</summary>
    private object Settings(string database, int? commandTimeout = null) => new
    {
        host = PostgresCluster.Host,
        port = cluster.Port,
        database,
        user = PostgresCluster.Superuser,
        ssl_mode = "disable",
        command_timeout_seconds = commandTimeout ?? 30,
    };

    [SkippableFact]
    public async Task RedshiftSyncReadsPgCatalogLateBindingViewsMaterializedViewsAndExternalTables()
    {
        var database = await CreateSourceDatabaseAsync();
        using var host = new ConnectorHost();

        var outcome = await host.SyncAsync("redshift", Settings(database), new { password = cluster.Password });
        var catalog = ConnectorHost.Json(outcome.Catalog);

        // redshift_standin is an ordinary schema on PostgreSQL, so it is read like any other; on Redshift those objects
        // are in pg_catalog, which is not.
        var schemas = catalog.GetProperty("schemas").EnumerateArray().ToList();
        Assert.Equal(["empty_one", "public", "redshift_standin", "sales", "spectrum"], schemas.Select(s => s.Str("name")!).ToArray());
        Assert.All(schemas, s => Assert.Equal(database, s.Str("database")));
        Assert.Equal("Orders and customers", schemas.Single(s => s.Str("name") == "sales").Str("description"));

        var tables = catalog.Tables().Where(t => !t.Key.StartsWith("redshift_standin.", StringComparison.Ordinal)).ToDictionary();
        Assert.Equal(
            ["sales.big_customers", "sales.customer_counts", "sales.customers", "sales.customers_lbv", "spectrum.recent_events", "spectrum.sales_events"],
            tables.Keys.Order(StringComparer.Ordinal).ToArray());

        // pg_catalog, as for PostgreSQL.
        Assert.Equal("table", tables["sales.customers"].Str("kind"));
        Assert.Equal("One row per customer", tables["sales.customers"].Str("description"));
        Assert.Equal(["id bigint False", "email character varying(200) False", "name text True", "balance numeric(12,2) True"],
            Columns(tables["sales.customers"]));
        Assert.Equal("Lower-case; unique", tables["sales.customers"].GetProperty("columns")[1].Str("description"));
        Assert.Equal("view", tables["sales.big_customers"].Str("kind"));
        Assert.Equal("Customers past the first hundred", tables["sales.big_customers"].Str("description"));

        // The late-binding view: its comment from pg_class, its columns from pg_get_late_binding_view_cols, nullability unknown.
        Assert.Equal("view", tables["sales.customers_lbv"].Str("kind"));
        Assert.Equal("Late-binding", tables["sales.customers_lbv"].Str("description"));
        Assert.Equal(["id bigint ", "email character varying(200) "], Columns(tables["sales.customers_lbv"]));
        Assert.Equal([1, 2], tables["sales.customers_lbv"].GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("position").GetInt32()));

        // The materialized view svv_mv_info names; its internal table is not listed.
        Assert.Equal("materialized_view", tables["sales.customer_counts"].Str("kind"));
        Assert.Equal(["customers bigint True"], Columns(tables["sales.customer_counts"]));

        // External tables of this database (not another database's), types as Redshift prints them.
        Assert.Equal("foreign_table", tables["spectrum.sales_events"].Str("kind"));
        Assert.Equal(["eventid int False", "pricepaid decimal(8,2) True", "saledate varchar(10) "], Columns(tables["spectrum.sales_events"]));
        Assert.Equal("view", tables["spectrum.recent_events"].Str("kind"));

        Assert.Equal(catalog.Tables().Count, outcome.TablesCount);
        Assert.DoesNotContain(cluster.Password, host.Logs.AllText, StringComparison.Ordinal);
    }

    private static string[] Columns(JsonElement table) => table.GetProperty("columns").EnumerateArray()
        .Select(c => $"{c.Str("name")} {c.Str("data_type")} {(c.GetProperty("nullable").ValueKind == JsonValueKind.Null ? "" : c.GetProperty("nullable").GetBoolean().ToString())}")
        .ToArray();

    /// <summary>A plain PostgreSQL is not Redshift: the first Redshift-only object fails the run, named by the server's own words.</summary>
    [SkippableFact]
    public async Task RedshiftConnectorOnPlainPostgresFailsNamingTheMissingFunction()
    {
        var database = await CreateSourceDatabaseAsync(standIn: false);
        using var host = new ConnectorHost();

        var error = await host.FailAsync("redshift", Settings(database), new { password = cluster.Password });

        Assert.StartsWith($"Redshift at 127.0.0.1:{cluster.Port} answered 42883: function pg_get_late_binding_view_cols() does not exist", error,
            StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task RedshiftWrongPasswordReadsAsPostgresDoesAndShowsNoSecret()
    {
        var database = await CreateSourceDatabaseAsync();
        const string wrong = "Not-The-Password-51c0de";
        using var host = new ConnectorHost();

        var error = await host.FailAsync("redshift", Settings(database), new { password = wrong });

        Assert.Equal($"authentication failed for user \"{PostgresCluster.Superuser}\" at 127.0.0.1:{cluster.Port}: wrong password, or no such user",
            error);
        host.AssertNoSecret(error, wrong);
    }

    [SkippableFact]
    public async Task RedshiftClosedPortFailsQuicklySayingRefused()
    {
        cluster.Require();
        using var host = new ConnectorHost();
        var port = ClosedPort();

        var clock = Stopwatch.StartNew();
        var error = await host.FailAsync("redshift", new { host = "127.0.0.1", port, database = "dev", user = "dot", connect_timeout_seconds = 3 },
            new { password = "pw-0b5e55ed" });

        Assert.Equal($"could not connect to 127.0.0.1:{port}: Connection refused", error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    /// <summary>Another session locks pg_description, which the comments are read from: the command timeout ends the run.</summary>
    [SkippableFact]
    public async Task RedshiftCommandTimeoutFailsTheRunWithinItsBound()
    {
        var database = await CreateSourceDatabaseAsync();
        using var host = new ConnectorHost();
        await using var blocker = await LockDescriptionsAsync(database);

        var clock = Stopwatch.StartNew();
        var error = await host.FailAsync("redshift", Settings(database, commandTimeout: 1), new { password = cluster.Password });

        Assert.StartsWith($"timed out after 1 s reading the catalogue at 127.0.0.1:{cluster.Port} (command_timeout_seconds)", error,
            StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    /// <summary>A run cancelled while its query waits (the worker's run timeout, or the server stopping) ends at once, as cancelled.</summary>
    [SkippableFact]
    public async Task RedshiftRunCancelledMidQueryStopsPromptly()
    {
        var database = await CreateSourceDatabaseAsync();
        await using var blocker = await LockDescriptionsAsync(database);
        using var host = new ConnectorHost();
        var connector = host.Connector("redshift");
        var job = Job(JsonSerializer.SerializeToElement(Settings(database)), cluster.Password);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connector.RunAsync(job, cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void RedshiftDefaultsArePort5439AndTlsRequired()
    {
        var target = PostgresTarget.From(Job(JsonSerializer.SerializeToElement(new { host = "examplecluster.abc123.us-west-2.redshift.amazonaws.com", database = "dev", user = "dot" }),
            "s3cret-pw"), PostgresFlavor.Redshift);
        var built = new NpgsqlConnectionStringBuilder(target.ConnectionString);

        Assert.Equal((5439, SslMode.Require, "dev", "dot"), (built.Port, built.SslMode, built.Database, built.Username));
        Assert.Equal("examplecluster.abc123.us-west-2.redshift.amazonaws.com:5439", target.Endpoint);
        Assert.False(target.Flavor.LoadTypes);
        Assert.DoesNotContain("s3cret-pw", target.ToString(), StringComparison.Ordinal);

        var byString = PostgresTarget.From(Job(JsonSerializer.SerializeToElement(new { }), null,
            "Host=examplecluster.example;Database=dev;Username=dot;Password=pw-1"), PostgresFlavor.Redshift);
        Assert.Equal(SslMode.Require, new NpgsqlConnectionStringBuilder(byString.ConnectionString).SslMode);
        var saysDisable = PostgresTarget.From(Job(JsonSerializer.SerializeToElement(new { }), null,
            "Host=examplecluster.example;Database=dev;Username=dot;SSL Mode=Disable"), PostgresFlavor.Redshift);
        Assert.Equal(SslMode.Disable, new NpgsqlConnectionStringBuilder(saysDisable.ConnectionString).SslMode);
    }

    [Fact]
    public async Task RedshiftMetadataAddressIsRefusedBeforeConnecting()
    {
        var dns = new FakeConnectorDns(new(StringComparer.Ordinal) { ["cluster.internal"] = [IPAddress.Parse("169.254.169.254")] });
        using var host = new ConnectorHost(dns: dns);

        var error = await host.FailAsync("redshift", new { host = "cluster.internal", database = "dev", user = "dot" }, new { password = "pw-123456" });

        Assert.Equal("refused to connect to cluster.internal:5439: cluster.internal (169.254.169.254) is a cloud metadata address: connectors never connect there",
            error);
    }

    private async Task<NpgsqlConnection> LockDescriptionsAsync(string database)
    {
        var blocker = new NpgsqlConnection(cluster.ConnectionString(database));
        await blocker.OpenAsync();
        await using var command = new NpgsqlCommand("BEGIN; LOCK TABLE pg_catalog.pg_description IN ACCESS EXCLUSIVE MODE", blocker);
        await command.ExecuteNonQueryAsync();
        return blocker;
    }

    private static SyncJob Job(JsonElement settings, string? password, string? connectionString = null)
    {
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        if (password is not null)
        {
            secrets["password"] = password;
        }

        if (connectionString is not null)
        {
            secrets["connection_string"] = connectionString;
        }

        return ConnectorHost.Job("redshift", settings, secrets, id: "warehouse");
    }

    internal static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;
using Npgsql;

namespace Dot.Api.Connectors.Tests;

/// <summary>
/// The postgres connector against a real PostgreSQL server (<see cref="PostgresCluster"/>): a schema with tables, a
/// view, a materialized view, a partitioned table, comments and a column of every common type
/// (<see cref="SourceDatabases.Postgres"/>) is read by the connector, driven directly, and the catalogue compared with
/// what the server itself says. Through the server (a webhook's URL token, the catalogue replaced):
/// tests/Dot.Api.Tests, Sync/DatabaseConnectorSyncTests.cs.
/// </summary>
[Trait("Store", "any")]
[Collection(PostgresTests.Name)]
public sealed class PostgresConnectorTests(PostgresCluster cluster)
{
    private static readonly Dictionary<string, string> EveryTypeColumns = new(StringComparer.Ordinal)
    {
        ["c_int"] = "integer",
        ["c_bigint"] = "bigint",
        ["c_numeric"] = "numeric(12,2)",
        ["c_text"] = "text",
        ["c_varchar"] = "character varying(40)",
        ["c_boolean"] = "boolean",
        ["c_date"] = "date",
        ["c_timestamp"] = "timestamp without time zone",
        ["c_timestamptz"] = "timestamp with time zone",
        ["c_uuid"] = "uuid",
        ["c_jsonb"] = "jsonb",
        ["c_int_array"] = "integer[]",
        ["c_text_array"] = "text[]",
        ["c_bytea"] = "bytea",
    };

    private Task<string> CreateSourceDatabaseAsync() => SourceDatabases.CreatePostgresAsync(cluster);

    private Dictionary<string, object> Settings(string database, object? extra = null)
    {
        var settings = new Dictionary<string, object>
        {
            ["host"] = PostgresCluster.Host,
            ["port"] = cluster.Port,
            ["database"] = database,
            ["user"] = PostgresCluster.Superuser,
            ["ssl_mode"] = "disable",
        };
        foreach (var property in extra?.GetType().GetProperties() ?? [])
        {
            settings[property.Name] = property.GetValue(extra)!;
        }

        return settings;
    }

    [SkippableFact]
    public async Task PostgresSyncReadsSchemasTablesViewsColumnsTypesAndComments()
    {
        var database = await CreateSourceDatabaseAsync();
        using var host = new ConnectorHost();

        // A session with a temporary table open during the sync: its pg_temp_N schema must not show.
        await using var session = new NpgsqlConnection(cluster.ConnectionString(database));
        await session.OpenAsync();
        await using (var temp = new NpgsqlCommand("CREATE TEMP TABLE scratch (x integer)", session))
        {
            await temp.ExecuteNonQueryAsync();
        }

        var outcome = await host.SyncAsync("postgres", Settings(database), new { password = cluster.Password });
        var catalog = ConnectorHost.Json(outcome.Catalog);

        // Schemas: the user's, none of PostgreSQL's own, including an empty one, with their comments.
        var schemas = catalog.GetProperty("schemas").EnumerateArray().ToList();
        Assert.Equal(["Mixed Case", "empty_one", "public", "sales"], schemas.Select(s => s.Str("name")!).ToArray());
        Assert.All(schemas, s => Assert.Equal(database, s.Str("database")));
        Assert.Equal("Orders and customers", schemas.Single(s => s.Str("name") == "sales").Str("description"));
        Assert.Empty(schemas.Single(s => s.Str("name") == "empty_one").GetProperty("tables").EnumerateArray());

        var tables = catalog.Tables();
        Assert.Equal(
            ["Mixed Case.Quoted Table", "sales.big_customers", "sales.customer_counts", "sales.customers", "sales.events", "sales.every_type"],
            tables.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("table", tables["sales.customers"].Str("kind"));
        Assert.Equal("view", tables["sales.big_customers"].Str("kind"));
        Assert.Equal("materialized_view", tables["sales.customer_counts"].Str("kind"));
        Assert.Equal("table", tables["sales.events"].Str("kind")); // partitioned; its partition is not listed
        Assert.Equal("One row per customer", tables["sales.customers"].Str("description"));
        Assert.Equal("Customers past the first hundred", tables["sales.big_customers"].Str("description"));
        Assert.Equal("Refreshed nightly", tables["sales.customer_counts"].Str("description"));
        Assert.Equal(JsonValueKind.Null, tables["sales.every_type"].GetProperty("description").ValueKind);

        // Every common type, as PostgreSQL prints it; the dropped column leaves a gap in the positions, as in the server.
        var everyType = tables["sales.every_type"].GetProperty("columns").EnumerateArray().ToList();
        Assert.Equal(EveryTypeColumns.Keys.ToArray(), everyType.Select(c => c.Str("name")!).ToArray());
        Assert.All(everyType, c => Assert.Equal(EveryTypeColumns[c.Str("name")!], c.Str("data_type")));
        Assert.Equal([1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], everyType.Select(c => c.GetProperty("position").GetInt32()).ToArray());
        Assert.False(everyType.Single(c => c.Str("name") == "c_int").GetProperty("nullable").GetBoolean());
        Assert.False(everyType.Single(c => c.Str("name") == "c_uuid").GetProperty("nullable").GetBoolean());
        Assert.True(everyType.Single(c => c.Str("name") == "c_text").GetProperty("nullable").GetBoolean());
        Assert.Equal("Free-form attributes", everyType.Single(c => c.Str("name") == "c_jsonb").Str("description"));
        Assert.Equal("Lower-case; unique",
            tables["sales.customers"].GetProperty("columns").EnumerateArray().Single(c => c.Str("name") == "email").Str("description"));
        Assert.Equal("customers", tables["sales.customer_counts"].GetProperty("columns")[0].Str("name"));
        Assert.Equal("bigint", tables["sales.customer_counts"].GetProperty("columns")[0].Str("data_type"));
        Assert.Equal("Weird Column", tables["Mixed Case.Quoted Table"].GetProperty("columns")[0].Str("name"));

        // Tables, views and their columns agree with information_schema, asked independently.
        var expected = await InformationSchemaColumnsAsync(database);
        var actual = tables
            .Where(t => t.Value.Str("kind") is "table" or "view")
            .SelectMany(t => t.Value.GetProperty("columns").EnumerateArray().Select(c =>
                $"{t.Key}.{c.Str("name")} #{c.GetProperty("position").GetInt32()} nullable={c.GetProperty("nullable").GetBoolean()}"))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected, actual);

        Assert.Equal(4, outcome.SchemasCount);
        Assert.Equal(6, outcome.TablesCount);
        Assert.Equal(tables.Values.Sum(t => t.GetProperty("columns").GetArrayLength()), outcome.ColumnsCount);
        Assert.DoesNotContain(cluster.Password, host.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>information_schema.columns of the user's tables and views, minus partitions (the catalogue lists their parent).</summary>
    private async Task<List<string>> InformationSchemaColumnsAsync(string database)
    {
        const string sql = """
            SELECT c.table_schema, c.table_name, c.column_name, c.ordinal_position, c.is_nullable
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg\_%'
              AND t.table_type IN ('BASE TABLE', 'VIEW')
              AND NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
                              JOIN pg_namespace n ON n.oid = p.relnamespace
                              WHERE n.nspname = c.table_schema AND p.relname = c.table_name)
            """;
        var rows = new List<string>();
        await using var connection = new NpgsqlConnection(cluster.ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add($"{reader.GetString(0)}.{reader.GetString(1)}.{reader.GetString(2)} #{reader.GetInt32(3)} nullable={reader.GetString(4) == "YES"}");
        }

        return rows.Order(StringComparer.Ordinal).ToList();
    }

    [SkippableFact]
    public async Task PostgresConnectionStringSecretIsEnough()
    {
        var database = await CreateSourceDatabaseAsync();
        using var host = new ConnectorHost();

        var outcome = await host.SyncAsync("postgres", null, new { connection_string = cluster.ConnectionString(database) });

        Assert.Contains("sales.every_type", ConnectorHost.Json(outcome.Catalog).Tables().Keys);
    }

    [SkippableFact]
    public async Task PostgresWrongPasswordFailsNamingTheUserButNotThePassword()
    {
        var database = await CreateSourceDatabaseAsync();
        const string wrong = "Not-The-Password-7f3a9c";
        using var host = new ConnectorHost();
        var jobs = new (object? Settings, object Secrets)[]
        {
            (Settings(database), new { password = wrong }),
            (null, new { connection_string = cluster.ConnectionString(database, password: wrong) }),
        };

        foreach (var (settings, secrets) in jobs)
        {
            var error = await host.FailAsync("postgres", settings, secrets);

            Assert.StartsWith($"authentication failed for user \"{PostgresCluster.Superuser}\" at 127.0.0.1:{cluster.Port}", error, StringComparison.Ordinal);
            Assert.DoesNotContain(wrong, error, StringComparison.Ordinal);
            Assert.DoesNotContain("Password", error, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(wrong, host.Logs.AllText, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task PostgresUnreachablePortFailsQuickly()
    {
        cluster.Require();
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        using var host = new ConnectorHost();

        var clock = Stopwatch.StartNew();
        var error = await host.FailAsync("postgres",
            new { host = "127.0.0.1", port = closedPort, database = "x", user = "dot", connect_timeout_seconds = 3 }, new { password = "pw-123456" });

        Assert.StartsWith($"could not connect to 127.0.0.1:{closedPort}: ", error, StringComparison.Ordinal);
        Assert.Contains("refused", error, StringComparison.OrdinalIgnoreCase);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    /// <summary>Refused before Npgsql opens a socket: no PostgreSQL is needed, and the run fails at once.</summary>
    [Theory]
    [InlineData("169.254.169.254", "refused to connect to 169.254.169.254:5432: 169.254.169.254 is a cloud metadata address: connectors never connect there")]
    [InlineData("169.254.0.7", "refused to connect to 169.254.0.7:5432: 169.254.0.7 is a link-local address (where cloud metadata services answer): connectors never connect there")]
    [InlineData("metadata.google.internal", "refused to connect to metadata.google.internal:5432: metadata.google.internal (169.254.169.254) is a cloud metadata address: connectors never connect there")]
    public async Task PostgresLinkLocalOrMetadataHostIsRefusedBeforeConnecting(string host, string error)
    {
        var dns = new FakeConnectorDns(new(StringComparer.Ordinal) { ["metadata.google.internal"] = [IPAddress.Parse("169.254.169.254")] });
        using var connectors = new ConnectorHost(dns: dns);

        var clock = Stopwatch.StartNew();
        var failure = await connectors.FailAsync("postgres", new { host, database = "x", user = "dot" }, new { password = "pw-123456" });
        clock.Stop();

        Assert.Equal(error, failure);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task PostgresHostOutsideAllowedHostsIsRefused()
    {
        using var host = new ConnectorHost(new Dictionary<string, string?> { ["Dot:Connectors:AllowedHosts:0"] = "warehouse.example.com" });

        var error = await host.FailAsync("postgres", new { host = "127.0.0.1", port = 5432, database = "x", user = "dot" }, new { password = "pw-123456" });

        Assert.Equal("refused to connect to 127.0.0.1:5432: 127.0.0.1 is not in Dot:Connectors:AllowedHosts: "
            + "connectors on this server reach only the hosts listed there", error);
    }

    /// <summary>
    /// A host name is resolved by the server, its addresses checked, and Npgsql handed the checked address: the name
    /// below exists only in the test's resolver, and the refused address among its answers is skipped.
    /// </summary>
    [SkippableFact]
    public async Task PostgresHostNameIsResolvedCheckedAndTheCheckedAddressConnectedTo()
    {
        var database = await CreateSourceDatabaseAsync();
        var dns = new FakeConnectorDns(new(StringComparer.Ordinal)
        {
            ["warehouse.test"] = [IPAddress.Parse("169.254.169.254"), IPAddress.Parse(PostgresCluster.Host)],
        });
        using var host = new ConnectorHost(new Dictionary<string, string?> { ["Dot:Connectors:AllowedHosts:0"] = "warehouse.test" }, dns);
        var settings = Settings(database);
        settings["host"] = "warehouse.test";

        var outcome = await host.SyncAsync("postgres", settings, new { password = cluster.Password });

        Assert.Contains("sales.customers", ConnectorHost.Json(outcome.Catalog).Tables().Keys);
        Assert.Equal(1, dns.Lookups);
    }

    [SkippableFact]
    public async Task PostgresUnknownDatabaseFailsSayingSo()
    {
        cluster.Require();
        using var host = new ConnectorHost();

        var error = await host.FailAsync("postgres", Settings("no_such_db"), new { password = cluster.Password });

        Assert.Equal($"database \"no_such_db\" does not exist at 127.0.0.1:{cluster.Port}", error);
    }

    /// <summary>
    /// Another session holds an exclusive lock on pg_description, which the comments are read from: the catalogue
    /// query waits, and the command timeout ends the run within its bound.
    /// </summary>
    [SkippableFact]
    public async Task PostgresStatementTimeoutFailsTheRunWithinItsBound()
    {
        var database = await CreateSourceDatabaseAsync();
        using var host = new ConnectorHost();
        await using var blocker = new NpgsqlConnection(cluster.ConnectionString(database));
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockIt = new NpgsqlCommand("LOCK TABLE pg_catalog.pg_description IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockIt.ExecuteNonQueryAsync();
        }

        var clock = Stopwatch.StartNew();
        var error = await host.FailAsync("postgres", Settings(database, new { command_timeout_seconds = 2 }), new { password = cluster.Password });
        await transaction.RollbackAsync();

        Assert.StartsWith($"timed out after 2 s reading the catalogue at 127.0.0.1:{cluster.Port}", error, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"took {clock.Elapsed}");
    }
}

using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Connectors.Tests.Infrastructure;

/// <summary>
/// The source databases of the postgres and redshift connectors' tests, built in a database of its own on the
/// <see cref="PostgresCluster"/>: here and in tests/Dot.Api.Tests' end-to-end syncs (which link this file).
/// </summary>
public static class SourceDatabases
{
    /// <summary>
    /// The postgres connector's source: a schema with tables, a view, a materialized view, a partitioned table, comments
    /// and a column of every common type, a dropped column, an empty schema and quoted names.
    /// </summary>
    public const string Postgres = """
        CREATE SCHEMA sales;
        COMMENT ON SCHEMA sales IS 'Orders and customers';
        CREATE TABLE sales.customers (id bigint PRIMARY KEY, email varchar(200) NOT NULL, name text);
        COMMENT ON TABLE sales.customers IS 'One row per customer';
        COMMENT ON COLUMN sales.customers.email IS 'Lower-case; unique';
        CREATE TABLE sales.every_type (
            c_int integer NOT NULL,
            c_dropped integer,
            c_bigint bigint,
            c_numeric numeric(12,2),
            c_text text,
            c_varchar varchar(40),
            c_boolean boolean,
            c_date date,
            c_timestamp timestamp,
            c_timestamptz timestamptz,
            c_uuid uuid NOT NULL,
            c_jsonb jsonb,
            c_int_array integer[],
            c_text_array text[],
            c_bytea bytea);
        ALTER TABLE sales.every_type DROP COLUMN c_dropped;
        COMMENT ON COLUMN sales.every_type.c_jsonb IS 'Free-form attributes';
        CREATE VIEW sales.big_customers AS SELECT id, email FROM sales.customers WHERE id > 100;
        COMMENT ON VIEW sales.big_customers IS 'Customers past the first hundred';
        CREATE MATERIALIZED VIEW sales.customer_counts AS SELECT count(*) AS customers FROM sales.customers;
        COMMENT ON MATERIALIZED VIEW sales.customer_counts IS 'Refreshed nightly';
        CREATE TABLE sales.events (id integer, at date NOT NULL) PARTITION BY RANGE (at);
        CREATE TABLE sales.events_2026 PARTITION OF sales.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE SCHEMA empty_one;
        CREATE SCHEMA "Mixed Case";
        CREATE TABLE "Mixed Case"."Quoted Table" ("Weird Column" integer);
        """;

    /// <summary>The redshift connector's source: what Redshift shares with PostgreSQL, as Redshift shows it in pg_catalog.</summary>
    public const string Redshift = """
        CREATE SCHEMA sales;
        COMMENT ON SCHEMA sales IS 'Orders and customers';
        CREATE TABLE sales.customers (id bigint NOT NULL, email varchar(200) NOT NULL, name text, balance numeric(12,2));
        COMMENT ON TABLE sales.customers IS 'One row per customer';
        COMMENT ON COLUMN sales.customers.email IS 'Lower-case; unique';
        CREATE VIEW sales.big_customers AS SELECT id, email FROM sales.customers WHERE id > 100;
        COMMENT ON VIEW sales.big_customers IS 'Customers past the first hundred';
        -- A late-binding view as pg_catalog shows it on Redshift: in pg_class, nothing in pg_attribute.
        CREATE VIEW sales.customers_lbv AS SELECT FROM sales.customers;
        COMMENT ON VIEW sales.customers_lbv IS 'Late-binding';
        -- A materialized view as Redshift keeps it: a view over its internal table.
        CREATE TABLE sales.mv_tbl__customer_counts__0 (customers bigint);
        CREATE VIEW sales.customer_counts AS SELECT customers FROM sales.mv_tbl__customer_counts__0;
        CREATE SCHEMA empty_one;
        -- An external schema is in pg_namespace too; its tables are not in pg_class.
        CREATE SCHEMA spectrum;
        """;

    /// <summary>Stand-ins for Redshift's own system objects, built from the documented shapes (see the class comment of RedshiftConnectorTests).</summary>
    public const string RedshiftStandIn = """
        CREATE SCHEMA redshift_standin;
        CREATE FUNCTION redshift_standin.pg_get_late_binding_view_cols() RETURNS SETOF record LANGUAGE sql AS $$
            VALUES ('sales'::name, 'customers_lbv'::name, 'id'::name, 'bigint'::varchar, 1),
                   ('sales'::name, 'customers_lbv'::name, 'email'::name, 'character varying(200)'::varchar, 2)
            $$;
        CREATE VIEW redshift_standin.svv_external_schemas AS
            SELECT * FROM (VALUES (100133::oid, 1::smallint, 'spectrum'::name, 100, 'spectrumdb'::text,
                                   '{"IAM_ROLE":"arn:aws:iam::123456789012:role/mySpectrumRole"}'::text))
                AS v(esoid, eskind, schemaname, esowner, databasename, esoptions);
        CREATE VIEW redshift_standin.svv_external_tables AS
            SELECT * FROM (VALUES
                (current_database()::text, 'spectrum'::text, 'sales_events'::text, 'TABLE'::text, 's3://bucket/sales/'::text,
                 'org.apache.hadoop.mapred.TextInputFormat'::text, 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'::text,
                 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'::text, '{"field.delim":"\t"}'::text, 0, '{}'::text),
                (current_database()::text, 'spectrum', 'recent_events', 'VIEW', '', '', '', '', '', 0, '{}'),
                ('another_db', 'spectrum', 'elsewhere', 'TABLE', 's3://bucket/other/', '', '', '', '', 0, '{}'))
                AS v(redshift_database_name, schemaname, tablename, tabletype, location, input_format, output_format,
                     serialization_lib, serde_parameters, compressed, parameters);
        CREATE VIEW redshift_standin.svv_external_columns AS
            SELECT * FROM (VALUES
                (current_database()::text, 'spectrum'::text, 'sales_events'::text, 'eventid'::text, 'int'::text, 1, 0, 'false'::text),
                (current_database()::text, 'spectrum', 'sales_events', 'pricepaid', 'decimal(8,2)', 2, 0, 'true'),
                (current_database()::text, 'spectrum', 'sales_events', 'saledate', 'varchar(10)', 3, 1, ''),
                (current_database()::text, 'spectrum', 'recent_events', 'eventid', 'int', 1, 0, ''),
                ('another_db', 'spectrum', 'elsewhere', 'x', 'int', 1, 0, ''))
                AS v(redshift_database_name, schemaname, tablename, columnname, external_type, columnnum, part_key, is_nullable);
        CREATE VIEW redshift_standin.svv_mv_info AS
            SELECT * FROM (VALUES (current_database()::char(128), 'sales'::char(128), 'dot_admin'::char(128), 'customer_counts'::char(128),
                                   'f'::char(1), 1, 't'::char(1), 'f'::char(1)))
                AS v(database_name, schema_name, user_name, name, is_stale, state, autorefresh, autorewrite);
        """;

    /// <summary>A new database holding <see cref="Postgres"/>.</summary>
    public static async Task<string> CreatePostgresAsync(PostgresCluster cluster)
    {
        cluster.Require();
        var database = await cluster.CreateDatabaseAsync();
        await cluster.ExecuteAsync(database, Postgres);
        return database;
    }

    /// <summary>A new database holding <see cref="Redshift"/> and, unless told not to, the <see cref="RedshiftStandIn"/> on its search_path.</summary>
    public static async Task<string> CreateRedshiftAsync(PostgresCluster cluster, bool standIn = true)
    {
        cluster.Require();
        var database = await cluster.CreateDatabaseAsync();
        await cluster.ExecuteAsync(database, Redshift);
        if (standIn)
        {
            await cluster.ExecuteAsync(database, RedshiftStandIn);
            await cluster.ExecuteAsync(database, $"ALTER DATABASE {database} SET search_path = \"$user\", public, redshift_standin");
        }

        return database;
    }
}

using Microsoft.Extensions.Logging;


namespace Dot.Api.Connectors;

/// <summary>
/// <c>redshift</c>: reads an Amazon Redshift database's catalogue through Npgsql, in one read-only transaction
/// (<see cref="PostgresSession"/>): what pg_catalog holds, as for PostgreSQL (<see cref="PgCatalog"/>: schemas, tables
/// and views, columns, comments), and what only Redshift's own system objects say, each as its documentation gives it:
/// <list type="bullet">
/// <item>late-binding views (<c>WITH NO SCHEMA BINDING</c>) have no rows in pg_attribute: their columns come from
/// <c>pg_get_late_binding_view_cols()</c> (docs.aws.amazon.com/redshift/latest/dg/PG_GET_LATE_BINDING_VIEW_COLS.html);</item>
/// <item>external schemas and tables (Spectrum, federated) are not in pg_class: <c>svv_external_schemas</c>,
/// <c>svv_external_tables</c> and <c>svv_external_columns</c> (…/r_SVV_EXTERNAL_SCHEMAS.html, r_SVV_EXTERNAL_TABLES.html,
/// r_SVV_EXTERNAL_COLUMNS.html) list them: kind <c>foreign_table</c> (a view or materialized view of a federated source
/// keeps that kind), the column type as Redshift prints it (<c>external_type</c>);</item>
/// <item>a materialized view is a view in pg_class over a table Redshift names <c>mv_tbl__NAME__0</c>:
/// <c>svv_mv_info</c> (…/r_SVV_MV_INFO.html) says which views are materialized; those are listed as
/// <c>materialized_view</c> and their internal tables are left out.</item>
/// </list>
/// Redshift's catalogue is PostgreSQL 8.0's: no <c>relispartition</c>, no partitioned tables; relations are tables
/// (<c>r</c>) and views (<c>v</c>). Its system schemas are <c>pg_*</c>, <c>information_schema</c> and <c>catalog_history</c>.
/// </summary>
internal sealed class RedshiftConnector(ConnectorNetwork network, ILogger<RedshiftConnector> logger) : ISyncConnector
{
    public string Type => "redshift";

    /// <summary>No user schema may start with pg_ (Redshift and PostgreSQL refuse the name); substring, not LIKE: Redshift reads a backslash in a literal as an escape.</summary>
    private const string UserSchemas = "substring(n.nspname, 1, 3) <> 'pg_' AND n.nspname NOT IN ('information_schema', 'catalog_history')";

    private const string RelationKinds = "c.relkind IN ('r', 'v')";

    /// <summary>The record shape Redshift documents for the function's rows.</summary>
    private const string LateBindingViewColumnsSql = """
        SELECT view_schema, view_name, col_name, col_type, col_num
        FROM pg_get_late_binding_view_cols() cols(view_schema name, view_name name, col_name name, col_type varchar, col_num int)
        """;

    /// <summary>
    /// External tables of this database's external schemas: the views also list, for cross-database queries, tables of
    /// other databases (<c>redshift_database_name</c> says which).
    /// </summary>
    private const string ExternalTablesSql = """
        SELECT t.schemaname, t.tablename, t.tabletype
        FROM svv_external_tables t
        JOIN svv_external_schemas s ON s.schemaname = t.schemaname
        WHERE t.redshift_database_name = current_database()
        """;

    private const string ExternalColumnsSql = """
        SELECT c.schemaname, c.tablename, c.columnname, c.external_type, c.is_nullable, c.columnnum
        FROM svv_external_columns c
        JOIN svv_external_schemas s ON s.schemaname = c.schemaname
        WHERE c.redshift_database_name = current_database()
        """;

    /// <summary>char(128) columns: trimmed.</summary>
    private const string MaterializedViewsSql = """
        SELECT trim(schema_name), trim(name) FROM svv_mv_info WHERE trim(database_name) = current_database()
        """;

    public async Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
        => SyncOutcome.Of(await PostgresSession.ReadCatalogAsync(network, job, PostgresFlavor.Redshift, logger, ReadAsync, ct));

    private static async Task<CatalogSnapshot> ReadAsync(PostgresSession session)
    {
        var catalog = await PgCatalog.ReadAsync(session, UserSchemas, RelationKinds);

        // Late-binding views are in pg_class (with their comments) but their columns are not in pg_attribute. Redshift
        // does not take comments on their columns, nor says whether they are nullable.
        await session.QueryAsync(LateBindingViewColumnsSql, r => catalog.AddColumn(r.GetString(0), r.GetString(1),
            new CatalogColumn(r.GetString(2), PostgresSession.Text(r, 3), null, r.GetInt32(4), null)));

        var materialized = new HashSet<(string Schema, string Name)>();
        await session.QueryAsync(MaterializedViewsSql, r => materialized.Add((r.GetString(0), r.GetString(1))));
        MarkMaterializedViews(catalog, materialized);

        await session.QueryAsync("SELECT schemaname FROM svv_external_schemas", r => catalog.Schemas.Add((r.GetString(0), null)));
        await session.QueryAsync(ExternalTablesSql, r => catalog.Relations.Add(
            new PgRelation(r.GetString(0), r.GetString(1), ExternalKind(PostgresSession.Text(r, 2)), null)));

        // Redshift does not take comments on external tables or columns.
        await session.QueryAsync(ExternalColumnsSql, r => catalog.AddColumn(r.GetString(0), r.GetString(1),
            new CatalogColumn(r.GetString(2), PostgresSession.Text(r, 3), Nullable(PostgresSession.Text(r, 4)), r.GetInt32(5), null)));

        return catalog.ToBuilder().Build();
    }

    /// <summary>Views svv_mv_info names become materialized views; the tables that hold their rows are not listed.</summary>
    private static void MarkMaterializedViews(PgCatalog catalog, HashSet<(string Schema, string Name)> materialized)
    {
        if (materialized.Count == 0)
        {
            return;
        }

        var internalTables = materialized.Select(m => (m.Schema, $"mv_tbl__{m.Name}__0")).ToHashSet();
        catalog.Relations.RemoveAll(r => r.Kind == CatalogKinds.Table && internalTables.Contains((r.Schema, r.Name)));
        for (var i = 0; i < catalog.Relations.Count; i++)
        {
            var relation = catalog.Relations[i];
            if (relation.Kind == CatalogKinds.View && materialized.Contains((relation.Schema, relation.Name)))
            {
                catalog.Relations[i] = relation with { Kind = CatalogKinds.MaterializedView };
            }
        }
    }

    /// <summary>svv_external_tables.tabletype: TABLE, VIEW, MATERIALIZED VIEW, or empty when the source does not say.</summary>
    private static string ExternalKind(string? tabletype) => tabletype?.Trim().ToUpperInvariant() switch
    {
        "VIEW" => CatalogKinds.View,
        "MATERIALIZED VIEW" => CatalogKinds.MaterializedView,
        _ => CatalogKinds.ForeignTable,
    };

    /// <summary>svv_external_columns.is_nullable: <c>true</c>, <c>false</c>, or empty when the source does not say.</summary>
    private static bool? Nullable(string? isNullable) => isNullable?.Trim().ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => null,
    };
}

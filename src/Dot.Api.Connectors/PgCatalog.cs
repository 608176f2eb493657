
namespace Dot.Api.Connectors;

/// <summary>A relation as pg_catalog lists it; <see cref="Kind"/> is one of <see cref="CatalogKinds"/>.</summary>
internal sealed record PgRelation(string Schema, string Name, string Kind, string? Description);

/// <summary>
/// What pg_catalog says of a database's schemas, relations and columns, read with the three queries the postgres and
/// redshift connectors share: namespaces with their comments, relations of the kinds asked for with theirs, and their
/// columns with the type as <c>format_type</c> prints it, nullability, attnum and comment. Only functions PostgreSQL
/// and Redshift both document are used (<c>current_database</c>, <c>format_type</c>, <c>obj_description</c>,
/// <c>col_description</c>), and no column either lacks (Redshift has no <c>relispartition</c>: the caller's filter
/// says which relations count). A connector may add to it (Redshift's late-binding view columns) before building.
/// </summary>
internal sealed class PgCatalog
{
    private readonly Dictionary<(string Schema, string Table), List<CatalogColumn>> _columns = [];

    /// <summary>The connected database, as every schema's <c>database</c>; null when no schema was read.</summary>
    public string? Database { get; private set; }

    public List<(string Name, string? Description)> Schemas { get; } = [];

    public List<PgRelation> Relations { get; } = [];

    /// <param name="schemaFilter">A condition on <c>n</c> (pg_namespace) that keeps the user's schemas.</param>
    /// <param name="relationFilter">A condition on <c>c</c> (pg_class) that keeps the relations to list.</param>
    public static async Task<PgCatalog> ReadAsync(PostgresSession session, string schemaFilter, string relationFilter)
    {
        var catalog = new PgCatalog();
        await session.QueryAsync($"""
            SELECT current_database(), n.nspname, obj_description(n.oid, 'pg_namespace')
            FROM pg_catalog.pg_namespace n
            WHERE {schemaFilter}
            """, r =>
        {
            catalog.Database = r.GetString(0);
            catalog.Schemas.Add((r.GetString(1), PostgresSession.Text(r, 2)));
        });

        await session.QueryAsync($"""
            SELECT n.nspname, c.relname,
                   CASE c.relkind WHEN 'v' THEN '{CatalogKinds.View}' WHEN 'm' THEN '{CatalogKinds.MaterializedView}'
                                  WHEN 'f' THEN '{CatalogKinds.ForeignTable}' ELSE '{CatalogKinds.Table}' END,
                   obj_description(c.oid, 'pg_class')
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE {relationFilter} AND {schemaFilter}
            """, r => catalog.Relations.Add(new PgRelation(r.GetString(0), r.GetString(1), r.GetString(2), PostgresSession.Text(r, 3))));

        await session.QueryAsync($"""
            SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                   a.attnum, col_description(c.oid, a.attnum)
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE a.attnum > 0 AND NOT a.attisdropped AND {relationFilter} AND {schemaFilter}
            """, r => catalog.AddColumn(r.GetString(0), r.GetString(1),
                new CatalogColumn(r.GetString(2), r.GetString(3), r.GetBoolean(4), r.GetInt16(5), PostgresSession.Text(r, 6))));
        return catalog;
    }

    public void AddColumn(string schema, string table, CatalogColumn column)
    {
        if (!_columns.TryGetValue((schema, table), out var list))
        {
            _columns[(schema, table)] = list = [];
        }

        list.Add(column);
    }

    /// <summary>The schemas (each in <see cref="Database"/>) and relations, with the columns read or added for each.</summary>
    public CatalogBuilder ToBuilder()
    {
        var builder = new CatalogBuilder();
        foreach (var (name, description) in Schemas)
        {
            builder.AddSchema(Database, name, description);
        }

        foreach (var relation in Relations)
        {
            builder.AddTable(Database, relation.Schema, relation.Name, relation.Kind, relation.Description,
                _columns.GetValueOrDefault((relation.Schema, relation.Name)) ?? []);
        }

        return builder;
    }
}

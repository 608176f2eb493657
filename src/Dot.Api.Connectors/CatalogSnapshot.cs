namespace Dot.Api.Connectors;

/// <summary>
/// What a connector found: schemas, their tables and views, their columns. Built with <see cref="CatalogBuilder"/>,
/// handed back by a connector in its sync outcome (<see cref="SyncOutcome.Catalog"/>), and stored by the server's sync
/// worker in the transaction that ends the run.
/// The same records are the catalogue endpoint's answer, so what a connector builds is what a reader gets.
/// </summary>
public sealed record CatalogSnapshot(IReadOnlyList<CatalogSchema> Schemas)
{
    public static readonly CatalogSnapshot Empty = new([]);

    public int TablesCount => Schemas.Sum(s => s.Tables.Count);

    public int ColumnsCount => Schemas.Sum(s => s.Tables.Sum(t => t.Columns.Count));
}

/// <param name="Database">
/// The database the schema is in: PostgreSQL's current database, a dbt node's <c>database</c>. One dbt project often
/// spans several (sources in <c>raw</c>, models in <c>analytics</c>), each with a schema of the same name.
/// </param>
public sealed record CatalogSchema(string Name, string? Database, string? Description, IReadOnlyList<CatalogTable> Tables);

/// <param name="Kind">One of <see cref="CatalogKinds"/>.</param>
public sealed record CatalogTable(string Name, string Kind, string? Description, IReadOnlyList<CatalogColumn> Columns);

/// <param name="DataType">As the source names it (<c>character varying(40)</c>, <c>integer[]</c>); null when the source does not say.</param>
/// <param name="Nullable">Null when the source does not say (a dbt manifest does not).</param>
/// <param name="Position">1-based: PostgreSQL's attnum (gaps where columns were dropped), a manifest's declaration order.</param>
public sealed record CatalogColumn(string Name, string? DataType, bool? Nullable, int Position, string? Description);

/// <summary>The <c>kind</c> of a catalogue table.</summary>
public static class CatalogKinds
{
    public const string Table = "table";
    public const string View = "view";
    public const string MaterializedView = "materialized_view";
    public const string ForeignTable = "foreign_table";

    /// <summary>A dbt source: a relation dbt reads but does not build, so its kind in the warehouse is unknown.</summary>
    public const string Source = "source";

    /// <summary>
    /// A Looker explore: a semantic-layer view over one or more joined tables, queried through Looker rather than the
    /// warehouse, so neither a table nor a view of the database.
    /// </summary>
    public const string Explore = "explore";

    public const int MaxLength = 32;
}

/// <summary>
/// Gathers a catalogue in any order and builds it sorted (schemas by name then database, tables by name, ordinal;
/// columns by position). A (database, schema, table) named twice keeps the first; later ones are counted in
/// <see cref="Duplicates"/>.
/// </summary>
public sealed class CatalogBuilder
{
    private readonly Dictionary<(string? Database, string Name), SchemaEntry> _schemas = [];

    public int Duplicates { get; private set; }

    /// <summary>Declares a schema (idempotent); a later non-empty description fills a missing one.</summary>
    public CatalogBuilder AddSchema(string? database, string name, string? description = null)
    {
        description = Clean(description);
        if (!_schemas.TryGetValue((database, name), out var entry))
        {
            _schemas[(database, name)] = entry = new SchemaEntry();
        }

        entry.Description ??= description;
        return this;
    }

    /// <summary>Adds a table to its schema (declared on the way); false when that schema already has a table of that name.</summary>
    public bool AddTable(string? database, string schema, string name, string kind, string? description, IEnumerable<CatalogColumn> columns)
    {
        AddSchema(database, schema);
        var tables = _schemas[(database, schema)].Tables;
        if (tables.ContainsKey(name))
        {
            Duplicates++;
            return false;
        }

        var ordered = columns
            .Select(c => c with { DataType = Clean(c.DataType), Description = Clean(c.Description) })
            .OrderBy(c => c.Position)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
        tables[name] = new CatalogTable(name, kind, Clean(description), ordered);
        return true;
    }

    public CatalogSnapshot Build() => new(_schemas
        .OrderBy(s => s.Key.Name, StringComparer.Ordinal)
        .ThenBy(s => s.Key.Database, StringComparer.Ordinal)
        .Select(s => new CatalogSchema(s.Key.Name, s.Key.Database, s.Value.Description,
            s.Value.Tables.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList()))
        .ToList());

    /// <summary>Empty and blank texts are no description.</summary>
    private static string? Clean(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private sealed class SchemaEntry
    {
        public string? Description { get; set; }

        public Dictionary<string, CatalogTable> Tables { get; } = new(StringComparer.Ordinal);
    }
}

namespace Dot.Api.Catalog;

/// <summary>
/// The catalogue of one connection, as its last successful sync left it: a header row (which sync, when) and,
/// under it, schemas, tables and columns. Every row carries the connection's key, so a replacement deletes by key
/// in four statements, whatever the size. Replaced whole, in one transaction (<see cref="CatalogStore"/>).
/// </summary>
public sealed class StoredCatalog
{
    public required string ConnectionType { get; set; }

    public required string ConnectionId { get; set; }

    public Guid SyncId { get; set; }

    public DateTime SyncedAt { get; set; }

    public List<StoredSchema> Schemas { get; set; } = [];
}

public sealed class StoredSchema
{
    public Guid Id { get; set; }

    public required string ConnectionType { get; set; }

    public required string ConnectionId { get; set; }

    public required string Name { get; set; }

    public string? Database { get; set; }

    public string? Description { get; set; }

    public List<StoredTable> Tables { get; set; } = [];
}

public sealed class StoredTable
{
    public Guid Id { get; set; }

    public Guid SchemaId { get; set; }

    public required string ConnectionType { get; set; }

    public required string ConnectionId { get; set; }

    public required string Name { get; set; }

    public required string Kind { get; set; }

    public string? Description { get; set; }

    public List<StoredColumn> Columns { get; set; } = [];
}

public sealed class StoredColumn
{
    public Guid Id { get; set; }

    public Guid TableId { get; set; }

    public required string ConnectionType { get; set; }

    public required string ConnectionId { get; set; }

    public required string Name { get; set; }

    public string? DataType { get; set; }

    public bool? Nullable { get; set; }

    public int Position { get; set; }

    public string? Description { get; set; }
}

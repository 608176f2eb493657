using Microsoft.Extensions.Logging;


namespace Dot.Api.Connectors;

/// <summary>
/// <c>postgres</c>: reads the catalogue of a PostgreSQL database from pg_catalog: non-system schemas, their tables,
/// views, materialized views and foreign tables (not the partitions of a partitioned table), their columns (type as
/// <c>format_type</c> prints it, nullability, attnum) and the comments on each. Three queries in one read-only
/// repeatable-read transaction, so they see one state of the database (<see cref="PostgresSession"/>).
/// </summary>
internal sealed class PostgresConnector(ConnectorNetwork network, ILogger<PostgresConnector> logger) : ISyncConnector
{
    public string Type => "postgres";

    /// <summary>Schemas that belong to PostgreSQL itself (and each session's temporary schemas).</summary>
    private const string UserSchemas = """
        n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
        """;

    private const string RelationKinds = "c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition";

    public async Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
        => SyncOutcome.Of(await PostgresSession.ReadCatalogAsync(network, job, PostgresFlavor.Postgres, logger,
            async session => (await PgCatalog.ReadAsync(session, UserSchemas, RelationKinds)).ToBuilder().Build(), ct));
}

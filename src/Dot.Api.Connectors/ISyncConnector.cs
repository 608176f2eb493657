using System.Text.Json;

namespace Dot.Api.Connectors;

/// <summary>
/// Reads a source's metadata for one connection type. Register implementations in DI
/// (<c>services.AddSingleton&lt;ISyncConnector, PostgresConnector&gt;()</c> or scoped); the server's sync worker picks the one
/// whose <see cref="Type"/> matches the run's connection type (the last registered, when several do, as DI resolves one
/// service). Throw to fail the run: a <see cref="SyncFailedException"/>'s message is the run's error as it stands; any other
/// exception's type and message become it. Either way the connection's secret values are removed.
/// </summary>
public interface ISyncConnector
{
    /// <summary>A connection type, such as <c>postgres</c>.</summary>
    string Type { get; }

    Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct);
}

/// <summary>What a connector is given: the run, the connection's settings and its decrypted secrets.</summary>
/// <param name="Secrets">Prints and serializes as names only; read values with its indexer.</param>
public sealed record SyncJob(
    Guid SyncId,
    string ConnectionType,
    string ConnectionId,
    string ConnectionName,
    IReadOnlyDictionary<string, JsonElement> Settings,
    ConnectionSecretValues Secrets);

/// <summary>
/// A successful sync: what it found (null where the connector does not count), and the catalogue it read, which the
/// worker stores in place of the connection's previous one in the transaction that marks the run succeeded.
/// </summary>
public sealed record SyncOutcome(int? SchemasCount = null, int? TablesCount = null, int? ColumnsCount = null)
{
    public CatalogSnapshot? Catalog { get; init; }

    /// <summary>
    /// External assets the source holds (a BI tool's dashboards), each checked by <see cref="ExternalAssetImport.Validate"/>
    /// as the import endpoint checks a client's: the worker imports them (the upsert of
    /// <c>POST /api/import_and_overwrite_external_asset</c>) in the transaction that marks the run succeeded. Null: none.
    /// </summary>
    public IReadOnlyList<ExternalAssetImport>? ExternalAssets { get; init; }

    /// <summary>The outcome of a connector that read <paramref name="catalog"/>: its counts, and the catalogue to store.</summary>
    public static SyncOutcome Of(CatalogSnapshot catalog)
        => new(catalog.Schemas.Count, catalog.TablesCount, catalog.ColumnsCount) { Catalog = catalog };
}

/// <summary>
/// A connector's failure whose message says it all ("authentication failed for user \"dot\"",
/// "could not connect to db:5432: Connection refused"): the run's error is the message, without the exception's type.
/// Never put a secret in it (it is scrubbed anyway).
/// </summary>
public sealed class SyncFailedException : Exception
{
    public SyncFailedException(string message)
        : base(message)
    {
    }

    public SyncFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

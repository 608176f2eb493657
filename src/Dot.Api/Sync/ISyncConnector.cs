using System.Text.Json;
using Dot.Api.Connections;

namespace Dot.Api.Sync;

/// <summary>
/// Reads a source's metadata for one connection type. Register implementations in DI
/// (<c>services.AddSingleton&lt;ISyncConnector, PostgresConnector&gt;()</c> or scoped); the worker picks the one whose
/// <see cref="Type"/> matches the run's connection type. Throw to fail the run: the exception's type and
/// message become the run's error, with the connection's secret values removed.
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

/// <summary>A successful sync: what it found (null where the connector does not count).</summary>
public sealed record SyncOutcome(int? SchemasCount = null, int? TablesCount = null, int? ColumnsCount = null);

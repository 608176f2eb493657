using System.Text.Json;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// Reading a catalogue's JSON: the catalogue endpoint's answer here, a connector's outcome as the endpoint would answer
/// it in tests/Dot.Api.Connectors.Tests (which links this file).
/// </summary>
public static class CatalogJson
{
    /// <summary>The catalogue's tables as "schema.table" (or "database.schema.table") → table element.</summary>
    public static Dictionary<string, JsonElement> Tables(this JsonElement catalog, bool withDatabase = false)
        => catalog.GetProperty("schemas").EnumerateArray()
            .SelectMany(s => s.GetProperty("tables").EnumerateArray().Select(t => (Schema: s, Table: t)))
            .ToDictionary(
                x => (withDatabase ? x.Schema.GetProperty("database").GetString() + "." : "")
                    + x.Schema.GetProperty("name").GetString() + "." + x.Table.GetProperty("name").GetString(),
                x => x.Table,
                StringComparer.Ordinal);

    public static string? Str(this JsonElement element, string property) => element.GetProperty(property).GetString();
}

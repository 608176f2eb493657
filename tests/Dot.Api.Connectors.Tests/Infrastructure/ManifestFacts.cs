using System.Text.Json;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Connectors.Tests.Infrastructure;

/// <summary>
/// What a manifest holds, computed by the test on its own, with a plain <see cref="JsonDocument"/> over the whole
/// file: the relations of its models (not ephemeral), seeds and sources, keyed "database.schema.table", the first of
/// a key winning as in the product.
/// </summary>
public static class ManifestFacts
{
    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "dbt", name);

    public sealed record Relation(string Kind, string? Description, IReadOnlyList<string> Columns);

    public static Dictionary<string, Relation> Relations(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        var relations = new Dictionary<string, Relation>(StringComparer.Ordinal);
        foreach (var node in root.GetProperty("nodes").EnumerateObject().Select(p => p.Value))
        {
            var type = node.GetProperty("resource_type").GetString();
            var materialized = node.GetProperty("config").GetProperty("materialized").GetString();
            if (type is not ("model" or "seed") || materialized == "ephemeral")
            {
                continue;
            }

            var kind = type == "seed" ? "table" : materialized switch { "view" => "view", "materialized_view" => "materialized_view", _ => "table" };
            Add(relations, node, Text(node, "alias") ?? Text(node, "name")!, kind);
        }

        foreach (var source in root.GetProperty("sources").EnumerateObject().Select(p => p.Value))
        {
            Add(relations, source, Text(source, "identifier") ?? Text(source, "name")!, "source");
        }

        return relations;
    }

    private static void Add(Dictionary<string, Relation> relations, JsonElement node, string table, string kind)
    {
        var key = $"{Text(node, "database")}.{Text(node, "schema")}.{table}";
        var columns = node.GetProperty("columns").EnumerateObject()
            .Select(c => $"{Text(c.Value, "name") ?? c.Name}|{Text(c.Value, "data_type")}|{Text(c.Value, "description")}")
            .ToList();
        relations.TryAdd(key, new Relation(kind, Text(node, "description"), columns));
    }

    private static string? Text(JsonElement element, string property)
        => element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            && !string.IsNullOrWhiteSpace(text)
            ? text
            : null;

    /// <summary>The catalogue answer in the same shape, to compare.</summary>
    public static Dictionary<string, Relation> Relations(JsonElement catalog)
        => catalog.Tables(withDatabase: true).ToDictionary(
            t => t.Key,
            t => new Relation(t.Value.Str("kind")!, t.Value.Str("description"), t.Value.GetProperty("columns").EnumerateArray()
                .Select(c => $"{c.Str("name")}|{c.Str("data_type")}|{c.Str("description")}")
                .ToList()),
            StringComparer.Ordinal);
}

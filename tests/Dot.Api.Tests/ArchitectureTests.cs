using System.Text.RegularExpressions;

namespace Dot.Api.Tests;

/// <summary>
/// The house's dependency rules, read from the code itself: which feature namespaces each file of src/Dot.Api uses
/// (its <c>using Dot.Api.X;</c> lines and any <c>Dot.Api.X.</c> it names in full). Data is left out — the DbContext
/// knows every entity by nature; Program.cs composes everything and has no namespace.
/// </summary>
public sealed partial class ArchitectureTests
{
    [GeneratedRegex(@"^namespace Dot\.Api\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"\bDot\.Api\.([A-Z]\w*)\b(?!\.dll)")]
    private static partial Regex Mention();

    [Fact]
    public void FeatureNamespacesHaveNoCycle()
    {
        var graph = ReadGraph();
        var cycles = StronglyConnected(graph).Where(c => c.Count > 1).ToList();
        Assert.True(cycles.Count == 0, "cycles between feature namespaces: "
            + string.Join("; ", cycles.Select(c => string.Join(" ↔ ", c.Order(StringComparer.Ordinal))))
            + "\n" + Describe(graph));
    }

    [Theory]
    [InlineData("Tokens", "Authentication")]
    [InlineData("Users", "Tokens")]
    [InlineData("Users", "Authentication")]
    [InlineData("Access", "Users")]
    [InlineData("Catalog", "Sync")]
    [InlineData("Audit", "Authentication")]
    [InlineData("Infrastructure", "Authentication")]
    [InlineData("Cli", "Users")]
    [InlineData("Cli", "Tokens")]
    [InlineData("Cli", "Connections")]
    public void ArrowsPointOneWay(string from, string mustNotUse)
    {
        var graph = ReadGraph();
        Assert.True(graph.ContainsKey(from), $"no namespace Dot.Api.{from}");
        Assert.DoesNotContain(mustNotUse, graph[from]);
    }

    /// <summary>Every [LoggerMessage] has an event id no other message of its category uses (a category is the class that logs).</summary>
    [Fact]
    public void LoggerEventIdsAreUniquePerCategory()
    {
        var messages = typeof(Program).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public
                | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttributes(typeof(Microsoft.Extensions.Logging.LoggerMessageAttribute), false)
                .Cast<Microsoft.Extensions.Logging.LoggerMessageAttribute>().SingleOrDefault()))
            .Where(x => x.Attribute is not null)
            .ToList();
        Assert.NotEmpty(messages);
        var clashes = messages
            .GroupBy(x => (Category: x.Method.DeclaringType!.DeclaringType ?? x.Method.DeclaringType!, x.Attribute!.EventId))
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key.Category.Name} event {g.Key.EventId}: {string.Join(", ", g.Select(x => x.Method.Name))}")
            .ToList();
        Assert.True(clashes.Count == 0, string.Join("; ", clashes));
    }

    [Fact]
    public void TheReaderSeesACycleWhenThereIsOne()
    {
        var graph = new Dictionary<string, HashSet<string>>
        {
            ["A"] = ["B"],
            ["B"] = ["C"],
            ["C"] = ["A"],
            ["D"] = ["A"],
        };
        var cycle = Assert.Single(StronglyConnected(graph), c => c.Count > 1);
        Assert.Equal(["A", "B", "C"], cycle.Order(StringComparer.Ordinal));
    }

    private static Dictionary<string, HashSet<string>> ReadGraph()
    {
        var source = Path.Combine(RepositoryRoot(), "src", "Dot.Api");
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file).Replace('\\', '/');
            if (relative.StartsWith("obj/", StringComparison.Ordinal) || relative.StartsWith("bin/", StringComparison.Ordinal)
                || relative.Contains("/Migrations/", StringComparison.Ordinal))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            if (NamespaceLine().Match(text) is not { Success: true } ns || ns.Groups[1].Value == "Data")
            {
                continue;
            }

            var from = ns.Groups[1].Value;
            if (!graph.TryGetValue(from, out var uses))
            {
                graph[from] = uses = new HashSet<string>(StringComparer.Ordinal);
            }

            foreach (Match mention in Mention().Matches(text))
            {
                var to = mention.Groups[1].Value;
                if (to != from && to != "Data")
                {
                    uses.Add(to);
                }
            }
        }

        return graph;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dot.Api.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Dot.Api.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Tarjan's strongly connected components: every cycle lies inside one with more than one node.</summary>
    private static List<List<string>> StronglyConnected(Dictionary<string, HashSet<string>> graph)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<List<string>>();
        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in graph.GetValueOrDefault(node) ?? [])
            {
                if (!index.TryGetValue(next, out var nextIndex))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next))
                {
                    low[node] = Math.Min(low[node], nextIndex);
                }
            }

            if (low[node] == index[node])
            {
                var component = new List<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != node);
                result.Add(component);
            }
        }

        foreach (var node in graph.Keys.Order(StringComparer.Ordinal))
        {
            if (!index.ContainsKey(node))
            {
                Visit(node);
            }
        }

        return result;
    }

    private static string Describe(Dictionary<string, HashSet<string>> graph)
        => string.Join("\n", graph.OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} → {string.Join(", ", g.Value.Order(StringComparer.Ordinal))}"));
}

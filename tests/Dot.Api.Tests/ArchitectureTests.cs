using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dot.Api.Tests;

/// <summary>
/// The house's dependency rules, read from the compiled assembly (ArchUnitNET over <see cref="Core"/>, src/Dot.Api):
/// which feature namespaces each type of Dot.Api.X uses, however the source spells the reference (a using, a name in
/// full, a name relative to Dot.Api, a generic argument, a lambda's closure, an attribute). What the IL loses — a
/// <c>const</c> is copied into its user, <c>nameof</c> leaves a string — the compiler's binding of the same sources adds
/// (Roslyn's semantic model: every name a type's code binds to a symbol of another feature). A namespace counts as its
/// feature: Dot.Api.Data.Postgres is Data. Data is left out — the DbContext knows every entity by nature; Program.cs
/// composes everything and is in the host (src/Dot.Api.Host). Documentation comments are not references.
/// The same reading finds where the stores' client libraries are used: only Data, whose providers are their own
/// projects (src/Dot.Api.Data.Sqlite, src/Dot.Api.Data.Postgres), may.
/// </summary>
[Trait("Store", "any")] // reads the assembly and the source: nothing of the store
public sealed class ArchitectureTests
{
    /// <summary>src/Dot.Api, the features (assembly Dot.Api.Core; the host's assembly Dot.Api holds only Program).</summary>
    private static readonly System.Reflection.Assembly Core = typeof(Dot.Api.Data.DotDbContext).Assembly;

    [Fact]
    public void FeatureNamespacesHaveNoCycle()
    {
        var graph = Reading.Value.Graph;
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
        var graph = Reading.Value.Graph;
        Assert.True(graph.ContainsKey(from), $"no namespace Dot.Api.{from}");
        Assert.DoesNotContain(mustNotUse, graph[from]);
    }

    /// <summary>
    /// The connectors' library (src/Dot.Api.Connectors) stands below the server: it does not reference the server (Dot.Api.Core, Dot.Api; nor ASP.NET
    /// Core), and the server reaches the connectors' heavy packages (SqlClient, Google's auth) only through it. Read from
    /// each compiled assembly's references; the connectors' own references to those packages show the reading works.
    /// </summary>
    [Fact]
    public void ConnectorsLibraryIsBelowTheServerAndHoldsTheConnectorPackages()
    {
        var connectors = typeof(Connectors.ISyncConnector).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        var server = Core.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.DoesNotContain(connectors, name => name is "Dot.Api" or "Dot.Api.Core");
        Assert.DoesNotContain(connectors, name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.Contains("Microsoft.Data.SqlClient", connectors);
        Assert.Contains("Google.Apis.Auth", connectors);

        Assert.Contains("Dot.Api.Connectors", server);
        Assert.DoesNotContain("Microsoft.Data.SqlClient", server);
        Assert.DoesNotContain(server, name => name.StartsWith("Google.Apis", StringComparison.Ordinal));
    }

    /// <summary>
    /// Only Data uses Npgsql or Microsoft.Data.Sqlite (or the EF Core providers built on them): the feature code asks
    /// <see cref="Dot.Api.Data.IStoreProvider"/>, and the providers live in src/Dot.Api.Data.Sqlite and
    /// src/Dot.Api.Data.Postgres. (The connectors' postgres and redshift targets, a customer's database reached with
    /// Npgsql, live in src/Dot.Api.Connectors, outside this assembly.)
    /// </summary>
    [Fact]
    public void OnlyDataUsesTheStoresClientLibraries()
    {
        var uses = Reading.Value.StoreClientUses;
        Assert.True(uses.Count == 0, "the stores' client libraries used outside Data (ask IStoreProvider, or put it in a provider project): "
            + string.Join("; ", uses.Order(StringComparer.Ordinal)));
    }

    /// <summary>
    /// The features' assembly references no store provider at all: the EF Core providers and Microsoft.Data.Sqlite are
    /// the provider projects' own, and Npgsql the PostgreSQL provider's and the connectors' library's.
    /// </summary>
    [Fact]
    public void TheFeaturesReferenceNoStoreProvider()
    {
        var referenced = Core.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(IsStoreClient)
            .ToList();
        Assert.True(referenced.Count == 0, $"{Core.GetName().Name} references {string.Join(", ", referenced)}");
    }

    /// <summary>The binding sees a store client's type, and its extension methods, where a feature names them; Data may.</summary>
    [Fact]
    public void TheReaderSeesAStoreClientUsedOutsideData()
    {
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText("namespace Dot.Api.Tokens; public static class Lookup { public static object Open() => new Npgsql.NpgsqlConnection(); }"),
            CSharpSyntaxTree.ParseText("namespace Dot.Api.Data; public static class Store { public static object Open() => new Npgsql.NpgsqlConnection(); }"),
        };
        var references = new[] { typeof(object).Assembly.Location, typeof(Npgsql.NpgsqlConnection).Assembly.Location }
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));

        var uses = ReadBoundGraph(trees, references).StoreClientUses;

        Assert.Contains(uses, u => u.StartsWith("Tokens uses Npgsql.NpgsqlConnection", StringComparison.Ordinal));
        Assert.DoesNotContain(uses, u => u.StartsWith("Data ", StringComparison.Ordinal));
    }

    /// <summary>Every [LoggerMessage] has an event id no other message of its category uses (a category is the class that logs).</summary>
    [Fact]
    public void LoggerEventIdsAreUniquePerCategory()
    {
        var messages = Core.GetTypes()
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

    /// <summary>The IL has no trace of a constant of another feature; the binding of the source does.</summary>
    [Fact]
    public void TheBindingSeesAConstantOfAnotherFeature()
    {
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText("namespace Dot.Api.Sync; public static class Signature { public const string Name = \"x\"; }"),
            CSharpSyntaxTree.ParseText("namespace Dot.Api.Connections; public static class Rules { public const string Name = Sync.Signature.Name; }"),
        };

        var graph = ReadBoundGraph(trees, [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)]).Graph;

        Assert.Contains("Sync", graph["Connections"]);
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

    /// <summary>
    /// What the features use: each Dot.Api.X namespace's arrows to the others (<see cref="Graph"/>), and each use of a
    /// store's client library outside Data and the connectors, as "Feature uses Type (where)".
    /// </summary>
    private sealed record FeatureReading(Dictionary<string, HashSet<string>> Graph, HashSet<string> StoreClientUses);

    /// <summary>Read once: what the IL holds, and what the compiler bound that the IL does not show.</summary>
    private static readonly Lazy<FeatureReading> Reading = new(() => Merge(ReadCompiledGraph(), ReadBoundGraph()));

    /// <summary>Every Dot.Api.X type's dependencies as ArchUnitNET reads them from the IL.</summary>
    private static FeatureReading ReadCompiledGraph()
    {
        var architecture = new ArchLoader().LoadAssemblies(Core).Build();
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var storeClientUses = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in architecture.Types)
        {
            var feature = Feature(type.Namespace?.FullName);
            if (feature is not null && !MayUseStoreClients(feature))
            {
                foreach (var target in type.Dependencies.Select(d => d.Target).Where(t => t is not GenericParameter && IsStoreClient(t?.Assembly?.Name)))
                {
                    storeClientUses.Add($"{feature} uses {target.FullName} (in {type.FullName})");
                }
            }

            if (feature is not { } from || from == "Data")
            {
                continue;
            }

            if (!graph.TryGetValue(from, out var uses))
            {
                graph[from] = uses = new HashSet<string>(StringComparer.Ordinal);
            }

            // A generic parameter is no reference to a type; ArchUnitNET may also file it under another method's namespace.
            foreach (var dependency in type.Dependencies.Where(d => d.Target is not GenericParameter))
            {
                if (Feature(dependency.Target?.Namespace?.FullName) is { } to && to != from && to != "Data")
                {
                    uses.Add(to);
                }
            }
        }

        return new FeatureReading(graph, storeClientUses);
    }

    /// <summary>src/Dot.Api compiled again (its sources, its implicit usings, the references it was built with), then bound.</summary>
    private static FeatureReading ReadBoundGraph()
    {
        var source = Path.Combine(RepositoryRoot(), "src", "Dot.Api");
        var output = Path.Combine(source, "obj") + Path.DirectorySeparatorChar;
        var build = Path.Combine(source, "bin") + Path.DirectorySeparatorChar;
        var files = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(output, StringComparison.Ordinal) && !f.StartsWith(build, StringComparison.Ordinal))
            .Append(Directory.EnumerateFiles(output, "Dot.Api.GlobalUsings.g.cs", SearchOption.AllDirectories)
                .OrderByDescending(File.GetLastWriteTimeUtc).First());
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, f)).ToList();
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
            .Where(p => Path.GetFileNameWithoutExtension(p) is not ("Dot.Api" or "Dot.Api.Core" or "Dot.Api.Tests"))
            .DistinctBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList();
        return ReadBoundGraph(trees, references);
    }

    /// <summary>
    /// For every name in a Dot.Api.X namespace's code, the feature of the symbol it binds to (a type, or the type that
    /// holds a member), and whether that symbol is a store client's. Source generators do not run here, so what they
    /// would add is missing; what is written is bound.
    /// </summary>
    private static FeatureReading ReadBoundGraph(IReadOnlyList<SyntaxTree> trees, IEnumerable<MetadataReference> references)
    {
        var compilation = CSharpCompilation.Create("Dot.Api", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var storeClientUses = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tree in trees)
        {
            var root = tree.GetRoot();
            var feature = Feature(root.DescendantNodes().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString());
            if (feature is null or "Data")
            {
                continue;
            }

            if (!graph.TryGetValue(feature, out var uses))
            {
                graph[feature] = uses = new HashSet<string>(StringComparer.Ordinal);
            }

            var model = compilation.GetSemanticModel(tree);
            foreach (var name in root.DescendantNodes().OfType<SimpleNameSyntax>())
            {
                var symbol = model.GetSymbolInfo(name) is { Symbol: { } bound } ? bound : model.GetSymbolInfo(name).CandidateSymbols.FirstOrDefault();
                var type = symbol as INamedTypeSymbol ?? symbol?.ContainingType;
                if (Feature(type?.ContainingNamespace?.ToDisplayString()) is { } to && to != feature && to != "Data")
                {
                    uses.Add(to);
                }

                if (!MayUseStoreClients(feature) && symbol is not (null or INamespaceSymbol) && IsStoreClient(symbol.ContainingAssembly?.Name))
                {
                    var line = name.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    storeClientUses.Add($"{feature} uses {type?.ToDisplayString() ?? symbol.Name} ({Path.GetFileName(tree.FilePath)}:{line})");
                }
            }
        }

        return new FeatureReading(graph, storeClientUses);
    }

    private static FeatureReading Merge(FeatureReading a, FeatureReading b)
    {
        var merged = a.Graph.ToDictionary(e => e.Key, e => new HashSet<string>(e.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var (from, uses) in b.Graph)
        {
            if (merged.TryGetValue(from, out var existing))
            {
                existing.UnionWith(uses);
            }
            else
            {
                merged[from] = new HashSet<string>(uses, StringComparer.Ordinal);
            }
        }

        return new FeatureReading(merged, [.. a.StoreClientUses, .. b.StoreClientUses]);
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

    /// <summary>The feature a namespace belongs to: <c>Dot.Api.Data.Postgres</c> is Data; null outside Dot.Api.X.</summary>
    private static string? Feature(string? ns)
    {
        const string Root = "Dot.Api.";
        if (ns is null || !ns.StartsWith(Root, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = ns[Root.Length..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? rest : rest[..dot];
    }

    /// <summary>
    /// An assembly of a store's client library: Npgsql and its EF Core provider, Microsoft.Data.Sqlite, EF Core's
    /// SQLite provider, SQLitePCLRaw. (The EF Core providers' extension methods are in EF Core's namespaces: the
    /// assembly says whose they are.)
    /// </summary>
    private static bool IsStoreClient(string? assembly)
        => assembly is not null && (assembly.StartsWith("Npgsql", StringComparison.Ordinal)
            || assembly.StartsWith("Microsoft.Data.Sqlite", StringComparison.Ordinal)
            || assembly.StartsWith("Microsoft.EntityFrameworkCore.Sqlite", StringComparison.Ordinal)
            || assembly.StartsWith("SQLitePCLRaw", StringComparison.Ordinal));

    /// <summary>Only Data.</summary>
    private static bool MayUseStoreClients(string feature) => feature is "Data";

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

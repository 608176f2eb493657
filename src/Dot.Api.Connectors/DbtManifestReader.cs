using System.Buffers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dot.Api.Connectors;

/// <summary>
/// Reads the catalogue out of a dbt <c>manifest.json</c> as it streams in: a <see cref="Utf8JsonReader"/> walks the
/// top-level object over a sliding buffer, skips what it does not need (macros, docs, parent_map… often most of the
/// file) token by token, and parses one node at a time into a <see cref="JsonDocument"/>. Memory is bounded by the
/// largest single node, not by the file. Accepts manifest schema versions v9 to v12
/// (<c>metadata.dbt_schema_version</c>); refuses others, and files that are not manifests, with the reason. A reason
/// never quotes the file: its content may come from any address the server can reach, and an error must not show it.
/// </summary>
internal static partial class DbtManifestReader
{
    public const int MinSchemaVersion = 9;
    public const int MaxSchemaVersion = 12;

    private const int InitialBufferBytes = 64 * 1024;

    /// <summary>The largest single node (or metadata object) this reader holds in memory at once.</summary>
    public const int MaxNodeBytes = 128 * 1024 * 1024;

    [GeneratedRegex(@"/dbt/manifest/v(?<version>\d{1,4})\.json$", RegexOptions.CultureInvariant)]
    private static partial Regex ManifestSchema();

    /// <summary>dbt's other artifacts, named in this server's words (a message never quotes what the file holds).</summary>
    [GeneratedRegex(@"^https://schemas\.getdbt\.com/dbt/(?<kind>catalog|run-results|sources|semantic-manifest|semantic_manifest)/v\d{1,4}\.json$",
        RegexOptions.CultureInvariant)]
    private static partial Regex OtherArtifact();

    [GeneratedRegex(@"^[0-9A-Za-z.+-]{1,40}$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionText();

    /// <summary>The catalogue of a manifest, and how much memory reading it took.</summary>
    public sealed record Result(CatalogSnapshot Catalog, string SchemaVersion, string? DbtVersion, int Models, int Seeds, int Sources,
        long Bytes, int PeakBufferBytes);

    /// <exception cref="SyncFailedException">Not JSON, truncated, not a manifest, or a schema version this server does not read.</exception>
    public static async Task<Result> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var parser = new Parser();
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        var peak = buffer.Length;
        var filled = 0;
        long offset = 0;
        var final = false;
        var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            while (true)
            {
                // Fill the buffer (or reach the end) before parsing, so a node cut by the buffer's edge is re-read rarely.
                while (!final && filled < buffer.Length)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
                    if (read == 0)
                    {
                        final = true;
                    }

                    filled += read;
                }

                int consumed;
                bool done;
                try
                {
                    done = parser.Consume(buffer.AsSpan(0, filled), final, ref state, out consumed);
                }
                catch (JsonException ex)
                {
                    throw new SyncFailedException(
                        final && offset + filled == 0 ? "the manifest is empty (0 bytes)"
                        : final && (ex.Message.Contains("depth to be zero", StringComparison.Ordinal) || ex.Message.Contains("end of data", StringComparison.Ordinal))
                            ? $"the manifest is truncated: the JSON ends after {offset + filled} bytes, inside an object or array"
                            : $"the manifest is not valid JSON near line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1} of that line",
                        ex);
                }

                if (done)
                {
                    return parser.Finish(offset + consumed, peak);
                }

                if (final)
                {
                    throw new SyncFailedException($"the manifest is truncated: the JSON ends after {offset + filled} bytes, inside an object or array");
                }

                // Keep the unread tail; grow only when a single value does not fit.
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
                offset += consumed;
                if (filled == buffer.Length)
                {
                    if (buffer.Length >= MaxNodeBytes)
                    {
                        throw new SyncFailedException($"the manifest has a single entry larger than {MaxNodeBytes / (1024 * 1024)} MiB, near byte {offset}");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                    peak = Math.Max(peak, buffer.Length);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The walk over the manifest's top-level object, one step at a time so that it can stop wherever the buffer ends
    /// and resume from the reader's saved state with more bytes.
    /// </summary>
    private sealed class Parser
    {
        private readonly CatalogBuilder _catalog = new();
        private Mode _mode = Mode.Start;
        private Section _section;
        private int _skipDepth;
        private string? _schemaVersion;
        private string? _dbtVersion;
        private bool _finished;
        private int _models;
        private int _seeds;
        private int _sources;

        private enum Mode
        {
            Start,
            Root,
            Metadata,
            SkipValue,
            Skipping,
            SectionStart,
            SectionEntry,
            SectionNode,
        }

        private enum Section
        {
            Nodes,
            Sources,
        }

        /// <summary>Consumes what it can of <paramref name="data"/>; true once the top-level object has ended.</summary>
        public bool Consume(ReadOnlySpan<byte> data, bool final, ref JsonReaderState state, out int consumed)
        {
            var reader = new Utf8JsonReader(data, final, state);
            while (!_finished && Step(ref reader))
            {
            }

            consumed = checked((int)reader.BytesConsumed);
            state = reader.CurrentState;
            return _finished;
        }

        public Result Finish(long bytes, int peakBuffer)
        {
            if (_schemaVersion is null)
            {
                throw new SyncFailedException("the file is not a dbt manifest: it has no metadata.dbt_schema_version");
            }

            return new Result(_catalog.Build(), _schemaVersion, _dbtVersion, _models, _seeds, _sources, bytes, peakBuffer);
        }

        /// <summary>One token, or one whole value; false when the buffer ends first (the reader then stands where it can resume).</summary>
        private bool Step(ref Utf8JsonReader reader)
        {
            switch (_mode)
            {
                case Mode.Start:
                    if (!reader.Read())
                    {
                        return false;
                    }

                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new SyncFailedException($"the file is not a dbt manifest: it is a JSON {Describe(reader.TokenType)}, not an object");
                    }

                    _mode = Mode.Root;
                    return true;

                case Mode.Root:
                    if (!reader.Read())
                    {
                        return false;
                    }

                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        _finished = true;
                        return true;
                    }

                    if (reader.ValueTextEquals("metadata"u8))
                    {
                        _mode = Mode.Metadata;
                    }
                    else if (reader.ValueTextEquals("nodes"u8) || reader.ValueTextEquals("sources"u8))
                    {
                        _section = reader.ValueTextEquals("nodes"u8) ? Section.Nodes : Section.Sources;
                        _mode = Mode.SectionStart;
                    }
                    else
                    {
                        _mode = Mode.SkipValue;
                    }

                    return true;

                case Mode.Metadata:
                    if (!TryReadWhole(ref reader, out var metadata))
                    {
                        return false;
                    }

                    using (metadata)
                    {
                        ReadMetadata(metadata.RootElement);
                    }

                    _mode = Mode.Root;
                    return true;

                case Mode.SkipValue:
                    if (!reader.Read())
                    {
                        return false;
                    }

                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        _skipDepth = reader.CurrentDepth;
                        _mode = Mode.Skipping;
                    }
                    else
                    {
                        _mode = Mode.Root;
                    }

                    return true;

                case Mode.Skipping:
                    // Token by token, however large the value (macros can be most of the file).
                    while (reader.Read())
                    {
                        if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == _skipDepth)
                        {
                            _mode = Mode.Root;
                            return true;
                        }
                    }

                    return false;

                case Mode.SectionStart:
                    if (!reader.Read())
                    {
                        return false;
                    }

                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new SyncFailedException($"the file is not a dbt manifest: its {SectionName} is a JSON {Describe(reader.TokenType)}, not an object");
                    }

                    _mode = Mode.SectionEntry;
                    return true;

                case Mode.SectionEntry:
                    if (!reader.Read())
                    {
                        return false;
                    }

                    _mode = reader.TokenType == JsonTokenType.EndObject ? Mode.Root : Mode.SectionNode;
                    return true;

                case Mode.SectionNode:
                    if (!TryReadWhole(ref reader, out var node))
                    {
                        return false;
                    }

                    using (node)
                    {
                        if (node.RootElement.ValueKind == JsonValueKind.Object)
                        {
                            if (_section == Section.Nodes)
                            {
                                AddNode(node.RootElement);
                            }
                            else
                            {
                                AddSource(node.RootElement);
                            }
                        }
                    }

                    _mode = Mode.SectionEntry;
                    return true;

                default:
                    throw new InvalidOperationException($"unexpected parser mode {_mode}");
            }
        }

        private string SectionName => _section == Section.Nodes ? "nodes" : "sources";

        /// <summary>The next value whole, as a document of its own, if the buffer holds all of it.</summary>
        private static bool TryReadWhole(ref Utf8JsonReader reader, out JsonDocument document)
        {
            var resume = reader;
            if (!reader.Read())
            {
                reader = resume;
                document = null!;
                return false;
            }

            var start = reader;
            if (!reader.TrySkip())
            {
                reader = resume;
                document = null!;
                return false;
            }

            document = JsonDocument.ParseValue(ref start);
            return true;
        }

        private void ReadMetadata(JsonElement metadata)
        {
            var version = metadata.ValueKind == JsonValueKind.Object && metadata.TryGetProperty("dbt_schema_version", out var v)
                && v.ValueKind == JsonValueKind.String
                ? v.GetString()
                : null;
            if (string.IsNullOrEmpty(version))
            {
                throw new SyncFailedException("the file is not a dbt manifest: it has no metadata.dbt_schema_version");
            }

            var match = ManifestSchema().Match(version);
            if (!match.Success)
            {
                var other = OtherArtifact().Match(version);
                var artifact = other.Success
                    ? other.Groups["kind"].Value switch
                    {
                        "catalog" => "it is dbt's catalog.json",
                        "run-results" => "it is dbt's run_results.json",
                        "sources" => "it is dbt's sources.json",
                        _ => "it is dbt's semantic_manifest.json",
                    }
                    : $"its metadata.dbt_schema_version ({version.Length} characters) is not https://schemas.getdbt.com/dbt/manifest/vN.json "
                        + "(is it another dbt artifact, such as catalog.json or run_results.json?)";
                throw new SyncFailedException($"the file is not a dbt manifest: {artifact}");
            }

            var number = int.Parse(match.Groups["version"].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
            if (number is < MinSchemaVersion or > MaxSchemaVersion)
            {
                throw new SyncFailedException($"dbt manifest schema version v{number} is not supported: this server reads "
                    + $"v{MinSchemaVersion} to v{MaxSchemaVersion} (dbt 1.5 to 1.10); regenerate the manifest with a dbt version that writes one of those");
            }

            _schemaVersion = $"v{number}";

            // Logged: only when it reads as a version.
            _dbtVersion = metadata.TryGetProperty("dbt_version", out var dbt) && dbt.ValueKind == JsonValueKind.String
                && dbt.GetString() is { } dbtVersion && VersionText().IsMatch(dbtVersion)
                ? dbtVersion
                : null;
        }

        /// <summary>Models (their relation: database, schema and alias) and seeds; ephemeral models are not in the warehouse and are left out.</summary>
        private void AddNode(JsonElement node)
        {
            var resourceType = String(node, "resource_type");
            string kind;
            switch (resourceType)
            {
                case "model":
                    var materialized = node.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object
                        ? String(config, "materialized")
                        : null;
                    if (materialized == "ephemeral")
                    {
                        return;
                    }

                    kind = materialized switch
                    {
                        "view" => CatalogKinds.View,
                        "materialized_view" => CatalogKinds.MaterializedView,
                        _ => CatalogKinds.Table, // table, incremental, snapshot, dynamic_table, custom materializations
                    };
                    _models++;
                    break;
                case "seed":
                    kind = CatalogKinds.Table;
                    _seeds++;
                    break;
                default:
                    return;
            }

            Add(node, String(node, "alias") ?? String(node, "name"), kind);
        }

        /// <summary>Sources: the relation is database, schema and identifier (the name when no identifier is given).</summary>
        private void AddSource(JsonElement source)
        {
            if (String(source, "resource_type") is { } type && type != "source")
            {
                return;
            }

            _sources++;
            Add(source, String(source, "identifier") ?? String(source, "name"), CatalogKinds.Source);
        }

        private void Add(JsonElement node, string? table, string kind)
        {
            var schema = String(node, "schema");
            if (schema is null || table is null)
            {
                return;
            }

            var columns = new List<CatalogColumn>();
            if (node.TryGetProperty("columns", out var declared) && declared.ValueKind == JsonValueKind.Object)
            {
                foreach (var column in declared.EnumerateObject())
                {
                    var body = column.Value;
                    var name = body.ValueKind == JsonValueKind.Object ? String(body, "name") ?? column.Name : column.Name;
                    columns.Add(new CatalogColumn(name,
                        body.ValueKind == JsonValueKind.Object ? String(body, "data_type") : null,
                        null,
                        columns.Count + 1,
                        body.ValueKind == JsonValueKind.Object ? String(body, "description") : null));
                }
            }

            _catalog.AddTable(String(node, "database"), schema, table, kind, String(node, "description"), columns);
        }

        private static string? String(JsonElement element, string property)
            => element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
                ? text
                : null;

        private static string Describe(JsonTokenType token) => token switch
        {
            JsonTokenType.StartArray => "array",
            JsonTokenType.String => "string",
            JsonTokenType.Number => "number",
            JsonTokenType.True or JsonTokenType.False => "boolean",
            JsonTokenType.Null => "null",
            _ => token.ToString(),
        };
    }
}

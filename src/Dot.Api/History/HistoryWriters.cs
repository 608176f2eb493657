using System.IO.Pipelines;

namespace Dot.Api.History;

/// <summary>
/// Writes an export straight into the response's <see cref="PipeWriter"/>: a conversation, its
/// messages, the next conversation… Nothing is flushed to the client until <see cref="FlushAsync"/>.
/// </summary>
internal abstract class HistoryWriter(PipeWriter output, ExportFormat format) : IDisposable
{
    protected PipeWriter Output { get; } = output;

    public ExportFormat Format { get; } = format;

    /// <summary>Bytes handed to the writer so far; the exporter flushes every few dozen KB of them.</summary>
    public abstract long BytesWritten { get; }

    public static string MediaTypeOf(ExportFormat format) => format switch
    {
        ExportFormat.Ndjson => "application/x-ndjson",
        ExportFormat.Csv => "text/csv",
        _ => "application/json",
    };

    public static HistoryWriter Create(ExportFormat format, PipeWriter output) => format switch
    {
        ExportFormat.Ndjson => new NdjsonHistoryWriter(output),
        ExportFormat.Csv => new CsvHistoryWriter(output),
        _ => new JsonHistoryWriter(output),
    };

    public virtual void Start()
    {
    }

    public abstract void BeginConversation(ConversationRow conversation, IReadOnlyList<string> labels);

    public abstract void Message(MessageRow message);

    public abstract void EndConversation();

    public virtual void Finish()
    {
    }

    public virtual ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken) => Output.FlushAsync(cancellationToken);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

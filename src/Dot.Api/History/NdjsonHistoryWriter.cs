using System.Buffers;
using System.IO.Pipelines;

namespace Dot.Api.History;

/// <summary>
/// <c>ndjson</c>: one conversation per line, each the object <see cref="JsonHistoryWriter"/> writes in its array,
/// with no array around them.
/// </summary>
internal sealed class NdjsonHistoryWriter(PipeWriter output) : JsonHistoryWriter(output, ExportFormat.Ndjson)
{
    private long _beforeReset;

    public override long BytesWritten => _beforeReset + base.BytesWritten;

    public override void Start()
    {
    }

    public override void EndConversation()
    {
        base.EndConversation();

        // One JSON document per line: finish this one, end the line, start the next document.
        Json.Flush();
        _beforeReset += Json.BytesCommitted + 1;
        Output.Write("\n"u8);
        Json.Reset();
    }

    public override void Finish()
    {
    }
}

using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

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
        ExportFormat.Csv => new CsvHistoryWriter(output),
        _ => new JsonHistoryWriter(output, format),
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

/// <summary>
/// <c>json</c>: one array of conversations. <c>ndjson</c>: one conversation per line. Property names
/// come from <see cref="ExportedConversationDto"/> and <see cref="ExportedMessageDto"/> through the
/// API's snake_case policy, so the stream and the documented shape cannot drift apart.
/// </summary>
internal sealed class JsonHistoryWriter : HistoryWriter
{
    private static readonly JsonEncodedText ChatId = Name(nameof(ExportedConversationDto.ChatId));
    private static readonly JsonEncodedText Title = Name(nameof(ExportedConversationDto.Title));
    private static readonly JsonEncodedText AuthorEmail = Name(nameof(ExportedConversationDto.AuthorEmail));
    private static readonly JsonEncodedText CreatedAt = Name(nameof(ExportedConversationDto.CreatedAt));
    private static readonly JsonEncodedText LastMessageAt = Name(nameof(ExportedConversationDto.LastMessageAt));
    private static readonly JsonEncodedText MessageCount = Name(nameof(ExportedConversationDto.MessageCount));
    private static readonly JsonEncodedText Labels = Name(nameof(ExportedConversationDto.Labels));
    private static readonly JsonEncodedText Messages = Name(nameof(ExportedConversationDto.Messages));
    private static readonly JsonEncodedText MessageId = Name(nameof(ExportedMessageDto.MessageId));
    private static readonly JsonEncodedText Role = Name(nameof(ExportedMessageDto.Role));
    private static readonly JsonEncodedText Content = Name(nameof(ExportedMessageDto.Content));

    private readonly Utf8JsonWriter _json;
    private readonly bool _lines;
    private long _beforeReset;

    public JsonHistoryWriter(PipeWriter output, ExportFormat format)
        : base(output, format)
    {
        _lines = format == ExportFormat.Ndjson;

        // The export is data for programs, never HTML: keep non-ASCII text as it is (quotes, backslashes
        // and control characters are still escaped), so the file is readable and not six times larger.
        _json = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public override long BytesWritten => _beforeReset + _json.BytesCommitted + _json.BytesPending;

    public override void Start()
    {
        if (!_lines)
        {
            _json.WriteStartArray();
        }
    }

    public override void BeginConversation(ConversationRow conversation, IReadOnlyList<string> labels)
    {
        _json.WriteStartObject();
        _json.WriteString(ChatId, conversation.ChatId);
        _json.WriteString(Title, conversation.Title);
        _json.WriteString(AuthorEmail, conversation.AuthorEmail);
        _json.WriteString(CreatedAt, conversation.CreatedAt);
        _json.WriteString(LastMessageAt, conversation.LastMessageAt);
        _json.WriteNumber(MessageCount, conversation.MessageCount);
        _json.WriteStartArray(Labels);
        foreach (var label in labels)
        {
            _json.WriteStringValue(label);
        }

        _json.WriteEndArray();
        _json.WriteStartArray(Messages);
    }

    public override void Message(MessageRow message)
    {
        _json.WriteStartObject();
        _json.WriteString(MessageId, message.MessageId);
        _json.WriteString(Role, message.Role);
        _json.WriteString(Content, message.Content);
        _json.WriteString(CreatedAt, message.CreatedAt);
        _json.WriteEndObject();
    }

    public override void EndConversation()
    {
        _json.WriteEndArray();
        _json.WriteEndObject();
        if (_lines)
        {
            // One JSON document per line: finish this one, end the line, start the next document.
            _json.Flush();
            _beforeReset += _json.BytesCommitted + 1;
            Output.Write("\n"u8);
            _json.Reset();
        }
    }

    public override void Finish()
    {
        if (!_lines)
        {
            _json.WriteEndArray();
        }
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken)
    {
        _json.Flush();
        return base.FlushAsync(cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _json.Dispose();
        }

        base.Dispose(disposing);
    }

    private static JsonEncodedText Name(string property) => JsonEncodedText.Encode(JsonNamingPolicy.SnakeCaseLower.ConvertName(property));
}

/// <summary>
/// <c>csv</c> (RFC 4180): a header row, then one row per message, CRLF line ends, UTF-8 without BOM.
/// A field with a comma, a quote, CR or LF is quoted and its quotes doubled, so any content survives a
/// round trip. A field that begins with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or CR is prefixed with
/// <c>'</c> (API.md §4), so that a spreadsheet opening the export shows it as text instead of running it
/// as a formula (<c>=HYPERLINK(…)</c>, <c>=cmd|…</c>); the JSON formats carry the text as it was written.
/// </summary>
internal sealed class CsvHistoryWriter(PipeWriter output) : HistoryWriter(output, ExportFormat.Csv)
{
    private const int CharsPerChunk = 2048;
    private static readonly string[] Header =
        ["chat_id", "title", "author_email", "labels", "message_id", "role", "content", "created_at"];

    private long _written;
    private string _chatId = string.Empty;
    private string _title = string.Empty;
    private string _authorEmail = string.Empty;
    private string _labels = string.Empty;

    public override long BytesWritten => _written;

    public override void Start() => Row(Header);

    public override void BeginConversation(ConversationRow conversation, IReadOnlyList<string> labels)
    {
        _chatId = conversation.ChatId.ToString();
        _title = conversation.Title;
        _authorEmail = conversation.AuthorEmail;
        _labels = string.Join(';', labels);
    }

    public override void Message(MessageRow message)
        => Row([_chatId, _title, _authorEmail, _labels, message.MessageId.ToString(), message.Role, message.Content,
            Timestamp(message.CreatedAt)]);

    public override void EndConversation()
    {
    }

    /// <summary>The same ISO-8601 form the JSON formats write: 2026-01-15T12:00:00Z, fractions only when there are some.</summary>
    private static string Timestamp(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private void Row(ReadOnlySpan<string> fields)
    {
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0)
            {
                Ascii(","u8);
            }

            Field(fields[i]);
        }

        Ascii("\r\n"u8);
    }

    /// <summary>The leading characters that make a spreadsheet read a cell as a formula (OWASP's list).</summary>
    public static bool StartsLikeAFormula(ReadOnlySpan<char> value)
        => !value.IsEmpty && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r';

    private void Field(string value)
    {
        var formula = StartsLikeAFormula(value);
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            if (formula)
            {
                Ascii("'"u8);
            }

            Text(value);
            return;
        }

        Ascii(formula ? "\"'"u8 : "\""u8);
        var rest = value.AsSpan();
        int quote;
        while ((quote = rest.IndexOf('"')) >= 0)
        {
            Text(rest[..quote]);
            Ascii("\"\""u8);
            rest = rest[(quote + 1)..];
        }

        Text(rest);
        Ascii("\""u8);
    }

    private void Ascii(ReadOnlySpan<byte> bytes)
    {
        Output.Write(bytes);
        _written += bytes.Length;
    }

    /// <summary>UTF-8 into the pipe in chunks of a few KB, never splitting a surrogate pair.</summary>
    private void Text(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            var take = Math.Min(text.Length, CharsPerChunk);
            if (take < text.Length && char.IsHighSurrogate(text[take - 1]))
            {
                take--;
            }

            var chunk = text[..take];
            var span = Output.GetSpan(Encoding.UTF8.GetMaxByteCount(chunk.Length));
            var bytes = Encoding.UTF8.GetBytes(chunk, span);
            Output.Advance(bytes);
            _written += bytes;
            text = text[take..];
        }
    }
}

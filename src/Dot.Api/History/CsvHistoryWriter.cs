using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;

namespace Dot.Api.History;

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

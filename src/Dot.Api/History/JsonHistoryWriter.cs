using System.IO.Pipelines;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Dot.Api.History;

/// <summary>
/// <c>json</c>: one array of conversations (<see cref="NdjsonHistoryWriter"/> writes them one per line). Property names
/// come from <see cref="ExportedConversationDto"/> and <see cref="ExportedMessageDto"/> through the
/// API's snake_case policy, so the stream and the documented shape cannot drift apart.
/// </summary>
internal class JsonHistoryWriter : HistoryWriter
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

    public JsonHistoryWriter(PipeWriter output)
        : this(output, ExportFormat.Json)
    {
    }

    protected JsonHistoryWriter(PipeWriter output, ExportFormat format)
        : base(output, format)
    {
        // The export is data for programs, never HTML: keep non-ASCII text as it is (quotes, backslashes
        // and control characters are still escaped), so the file is readable and not six times larger.
        Json = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    protected Utf8JsonWriter Json { get; }

    public override long BytesWritten => Json.BytesCommitted + Json.BytesPending;

    public override void Start() => Json.WriteStartArray();

    public override void BeginConversation(ConversationRow conversation, IReadOnlyList<string> labels)
    {
        Json.WriteStartObject();
        Json.WriteString(ChatId, conversation.ChatId);
        Json.WriteString(Title, conversation.Title);
        Json.WriteString(AuthorEmail, conversation.AuthorEmail);
        Json.WriteString(CreatedAt, conversation.CreatedAt);
        Json.WriteString(LastMessageAt, conversation.LastMessageAt);
        Json.WriteNumber(MessageCount, conversation.MessageCount);
        Json.WriteStartArray(Labels);
        foreach (var label in labels)
        {
            Json.WriteStringValue(label);
        }

        Json.WriteEndArray();
        Json.WriteStartArray(Messages);
    }

    public override void Message(MessageRow message)
    {
        Json.WriteStartObject();
        Json.WriteString(MessageId, message.MessageId);
        Json.WriteString(Role, message.Role);
        Json.WriteString(Content, message.Content);
        Json.WriteString(CreatedAt, message.CreatedAt);
        Json.WriteEndObject();
    }

    public override void EndConversation()
    {
        Json.WriteEndArray();
        Json.WriteEndObject();
    }

    public override void Finish() => Json.WriteEndArray();

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken)
    {
        Json.Flush();
        return base.FlushAsync(cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Json.Dispose();
        }

        base.Dispose(disposing);
    }

    private static JsonEncodedText Name(string property) => JsonEncodedText.Encode(JsonNamingPolicy.SnakeCaseLower.ConvertName(property));
}

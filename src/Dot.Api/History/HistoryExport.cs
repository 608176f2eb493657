using System.Data;
using System.Reflection;
using Dot.Api.Data;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.History;

public enum ExportFormat
{
    Json,
    Ndjson,
    Csv,
}

/// <summary>The UTC instants [<see cref="Start"/>, <see cref="End"/>) whose messages are exported.</summary>
public readonly record struct ExportWindow(DateTime Start, DateTime End);

/// <summary>One conversation of <c>GET /api/export_history</c>: the shape the writers write and OpenAPI shows.</summary>
public sealed record ExportedConversationDto(
    Guid ChatId,
    string Title,
    string AuthorEmail,
    DateTime CreatedAt,
    DateTime LastMessageAt,
    int MessageCount,
    IReadOnlyList<string> Labels,
    IReadOnlyList<ExportedMessageDto> Messages);

public sealed record ExportedMessageDto(Guid MessageId, string Role, string Content, DateTime CreatedAt);

/// <summary>A conversation with messages in the window; the count and last time are of those messages.</summary>
internal sealed record ConversationRow(Guid ChatId, string Title, string AuthorEmail, DateTime CreatedAt, int MessageCount,
    DateTime LastMessageAt);

internal sealed record MessageRow(Guid ChatId, Guid MessageId, string Role, string Content, DateTime CreatedAt);

/// <summary>
/// Streams the conversations with messages in a window from the database to a <see cref="HistoryWriter"/>.
/// Memory stays flat whatever the size of the history: conversations are read in batches of
/// <see cref="ChatsPerBatch"/> (their headers, counts and labels), each batch's messages are
/// enumerated row by row, and the writer is flushed to the client every <see cref="FlushEveryBytes"/>
/// (the flush waits for a slow client, so nothing piles up). Every query reads one snapshot, so a
/// message recorded during the export cannot make a count disagree with the messages written.
/// </summary>
public sealed partial class HistoryExporter(DotDbContext db, IStoreProvider store, ILogger<HistoryExporter> logger)
{
    internal const int ChatsPerBatch = 256;
    private const int FlushEveryBytes = 32 * 1024;

    /// <summary>
    /// The export in the execution strategy: a transient failure before the first byte is written starts it again;
    /// after that it is not retried (the client has part of it).
    /// </summary>
    internal Task ExportAsync(ExportWindow window, HistoryWriter writer, CancellationToken cancellationToken)
    {
        var began = false;
        return db.RunOnceStartedAsync(async ct =>
        {
            await ExportOnceAsync(window, writer, () => began = true, ct);
            return true;
        }, () => began, cancellationToken);
    }

    private async Task ExportOnceAsync(ExportWindow window, HistoryWriter writer, Action beginning, CancellationToken cancellationToken)
    {
        await using var snapshot = await BeginSnapshotAsync(cancellationToken);
        beginning();
        writer.Start();
        long conversations = 0, messages = 0, flushedAt = 0;
        Guid? after = null;
        while (true)
        {
            var chats = await ConversationsQuery(db, window, after).ToListAsync(cancellationToken);
            if (chats.Count == 0)
            {
                break;
            }

            var ids = chats.Select(c => c.ChatId).ToList();
            var labels = (await LabelsQuery(db, ids).ToListAsync(cancellationToken))
                .ToLookup(l => l.ChatId, l => l.Label);
            var next = 0;
            ConversationRow? current = null;
            await foreach (var message in MessagesQuery(db, window, ids).AsAsyncEnumerable().WithCancellation(cancellationToken))
            {
                if (current?.ChatId != message.ChatId)
                {
                    if (current is not null)
                    {
                        writer.EndConversation();
                    }

                    // Both queries are ordered by chat id and read the same snapshot, and every listed chat has
                    // a message in the window: the next message's chat is the next listed one.
                    current = chats[next++];
                    if (current.ChatId != message.ChatId)
                    {
                        throw new InvalidOperationException("History export: conversations and messages are out of step.");
                    }

                    writer.BeginConversation(current, [.. labels[current.ChatId].Order(StringComparer.Ordinal)]);
                    conversations++;
                }

                writer.Message(message);
                messages++;
                if (writer.BytesWritten - flushedAt >= FlushEveryBytes)
                {
                    flushedAt = writer.BytesWritten;
                    if ((await writer.FlushAsync(cancellationToken)).IsCompleted)
                    {
                        return; // the client stopped reading
                    }
                }
            }

            if (current is not null)
            {
                writer.EndConversation();
            }

            if (chats.Count < ChatsPerBatch)
            {
                break;
            }

            after = chats[^1].ChatId;
        }

        writer.Finish();
        await writer.FlushAsync(cancellationToken);
        Log.Exported(logger, conversations, messages, writer.Format);
    }

    /// <summary>The next batch of conversations after <paramref name="after"/> (by id) with messages in the window.</summary>
    internal static IQueryable<ConversationRow> ConversationsQuery(DotDbContext db, ExportWindow window, Guid? after)
    {
        var (start, end) = (window.Start, window.End);
        var chats = db.Chats.AsNoTracking();
        if (after is { } last)
        {
            chats = chats.Where(c => c.Id.CompareTo(last) > 0);
        }

        return chats
            .Where(c => c.Messages.Any(m => m.CreatedAt >= start && m.CreatedAt < end))
            .OrderBy(c => c.Id)
            .Take(ChatsPerBatch)
            .Select(c => new ConversationRow(c.Id, c.Title, c.AuthorEmail, c.CreatedAt,
                c.Messages.Count(m => m.CreatedAt >= start && m.CreatedAt < end),
                c.Messages.Where(m => m.CreatedAt >= start && m.CreatedAt < end).Max(m => m.CreatedAt)));
    }

    /// <summary>The window's messages of some chats, in output order: a range scan of IX_chat_messages_ChatId_CreatedAt_Id per chat.</summary>
    internal static IQueryable<MessageRow> MessagesQuery(DotDbContext db, ExportWindow window, List<Guid> chatIds)
    {
        var (start, end) = (window.Start, window.End);
        return db.ChatMessages.AsNoTracking()
            .Where(m => chatIds.Contains(m.ChatId) && m.CreatedAt >= start && m.CreatedAt < end)
            .OrderBy(m => m.ChatId).ThenBy(m => m.CreatedAt).ThenBy(m => m.Id)
            .Select(m => new MessageRow(m.ChatId, m.Id, m.Role, m.Content, m.CreatedAt));
    }

    private static IQueryable<ChatLabel> LabelsQuery(DotDbContext db, List<Guid> chatIds)
        => db.ChatLabels.AsNoTracking().Where(l => chatIds.Contains(l.ChatId));

    /// <summary>
    /// A read-only transaction around the whole export, one snapshot that holds back no writer, so imports and chats
    /// carry on while a long export streams (<see cref="IStoreProvider.BeginSnapshotAsync"/>: on SQLite a DEFERRED
    /// transaction, where EF's own BeginTransaction would be BEGIN IMMEDIATE and hold the write lock throughout).
    /// </summary>
    private Task<IAsyncDisposable> BeginSnapshotAsync(CancellationToken cancellationToken) => store.BeginSnapshotAsync(db, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Information, "Exported {Conversations} conversations with {Messages} messages as {Format}")]
        public static partial void Exported(ILogger logger, long conversations, long messages, ExportFormat format);
    }
}

/// <summary>
/// The 200 of <c>GET /api/export_history</c>: streams the export as it is read. Validation has
/// happened before, because once the first bytes are out the status cannot change any more.
/// </summary>
public sealed class HistoryExportResult(ExportWindow window, ExportFormat format)
    : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public ExportWindow Window { get; } = window;

    public ExportFormat Format { get; } = format;

    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => HistoryWriter.MediaTypeOf(Format) + "; charset=utf-8";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        using var writer = HistoryWriter.Create(Format, response.BodyWriter);
        var exporter = httpContext.RequestServices.GetRequiredService<HistoryExporter>();
        await exporter.ExportAsync(Window, writer, httpContext.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
        => builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK,
            typeof(IReadOnlyList<ExportedConversationDto>),
            [.. Enum.GetValues<ExportFormat>().Select(HistoryWriter.MediaTypeOf)]));
}

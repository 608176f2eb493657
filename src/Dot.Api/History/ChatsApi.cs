using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Infrastructure;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dot.Api.History;

/// <summary>
/// Conversations. Anyone works on their own chats; admins and modelers may read and label every
/// chat; only the author and admins add messages. A chat a plain user may not read answers 404,
/// exactly like a chat that does not exist, so ids of other people's chats reveal nothing.
/// </summary>
internal static class ChatsApi
{
    private const string NoSuchChat = "No chat with that id.";

    public static RouteGroupBuilder MapChats(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api")
            .WithTags("Chats")
            .RequireRole(Role.User);

        group.MapPost("/chats", CreateAsync)
            .RequireScope(Scopes.Chats)
            .WithName("CreateChat")
            .WithExampleBody(new CreateChatRequest("Revenue questions"))
            .WithSummary("Record a conversation")
            .WithDescription("body {title} (1–200 characters); the caller is its author.");

        group.MapPost("/chats/{chat_id:guid}/messages", PostMessageAsync)
            .RequireScope(Scopes.Chats)
            .WithName("PostChatMessage")
            .WithExampleBody(new PostMessageRequest("user", "What was revenue last month, by region?"))
            .WithSummary("Record a message of a conversation")
            .WithDescription("body {role: user or assistant, content (1–100000 characters)}. Only the chat's author and admins; "
                + "a modeler gets 403 on another user's chat, a user 404.");

        group.MapGet("/chats/{chat_id:guid}", GetAsync)
            .RequireScope(Scopes.Chats)
            .WithName("GetChat")
            .WithSummary("A conversation with its labels and messages")
            .WithDescription("The author, admins and modelers; anyone else gets 404.");

        group.MapPost("/add_label_to_chat", AddLabelsAsync)
            .RequireScope(Scopes.Chats)
            .WithName("AddLabelToChat")
            .WithExampleBody(new AddLabelsRequest(Guid.Parse("0198f4b2-7c1d-7a00-9e55-3d4c2b1a0f00"), ["finance", "monthly"]))
            .WithSummary("Add labels to a conversation")
            .WithDescription("body {chat_id, labels: [..]}. Labels are a set: they are trimmed, and adding one the chat has "
                + "changes nothing. 1–100 characters each, no ';', at most 50 per chat. Answers all the chat's labels.");

        return group;
    }

    private static async Task<Results<Created<ChatDto>, InvalidProblem>> CreateAsync(
        CreateChatRequest request, ClaimsPrincipal caller, ChatService chats, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var title = ChatService.ValidateTitle(request.Title, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var chat = await chats.CreateAsync(caller.UserId(), caller.FindFirstValue(ClaimTypes.Email) ?? string.Empty, title!, ct);
        return TypedResults.Created($"/api/chats/{chat.Id}", chat.ToDto());
    }

    private static async Task<Results<Created<MessageDto>, InvalidProblem, ForbiddenProblem, NotFoundProblem>> PostMessageAsync(
        [FromRoute(Name = "chat_id")] Guid chatId, PostMessageRequest request, ClaimsPrincipal caller, ChatService chats,
        CancellationToken ct)
    {
        var chat = await chats.FindAsync(chatId, ct);
        if (chat is null || !ChatService.CanRead(caller, chat))
        {
            return Problems.NotFound(NoSuchChat);
        }

        if (!ChatService.CanPost(caller, chat))
        {
            return Problems.Forbidden("Only the chat's author or an admin may add messages to it.");
        }

        var errors = new FieldErrors();
        ChatService.ValidateMessage(request, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var message = await chats.AddMessageAsync(chat.Id, request.Role!, request.Content!, ct);
        return TypedResults.Created($"/api/chats/{chat.Id}", message.ToDto());
    }

    private static async Task<Results<Ok<ChatDetailDto>, NotFoundProblem>> GetAsync(
        [FromRoute(Name = "chat_id")] Guid chatId, ClaimsPrincipal caller, ChatService chats, CancellationToken ct)
    {
        var chat = await chats.FindWithContentAsync(chatId, ct);
        return chat is null || !ChatService.CanRead(caller, chat)
            ? Problems.NotFound(NoSuchChat)
            : TypedResults.Ok(chat.ToDetailDto());
    }

    private static async Task<Results<Ok<ChatLabelsDto>, InvalidProblem, NotFoundProblem>> AddLabelsAsync(
        AddLabelsRequest request, ClaimsPrincipal caller, ChatService chats, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (request.ChatId is null)
        {
            errors.Add("chat_id", "chat_id is required.");
        }

        var labels = ChatService.ValidateLabels(request.Labels, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var chat = await chats.FindAsync(request.ChatId!.Value, ct);
        if (chat is null || !ChatService.CanRead(caller, chat))
        {
            return Problems.NotFound(NoSuchChat);
        }

        var all = await chats.AddLabelsAsync(chat.Id, labels, ct);
        return all is null
            ? Problems.Validation("labels", $"A chat has at most {ChatLabel.MaxPerChat} labels.")
            : TypedResults.Ok(new ChatLabelsDto(chat.Id, all));
    }
}

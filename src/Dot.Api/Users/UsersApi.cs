using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Infrastructure;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dot.Api.Users;

internal static class UsersApi
{
    public static RouteGroupBuilder MapUsers(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/users")
            .WithTags("Users")
            .RequireRole(Role.Admin);

        group.MapGet("/", ListAsync)
            .RequireScope(Scopes.Users)
            .WithName("ListUsers")
            .WithSummary("List users")
            .WithDescription("Oldest first, paged with limit (1–200, default 50) and the next_cursor of the previous page.");

        group.MapPost("/", CreateAsync)
            .RequireScope(Scopes.Users)
            .WithName("CreateUser")
            .WithExampleBody(new CreateUserRequest("ada@example.com", "Ada Lovelace", "modeler", "correct horse battery staple", "person"))
            .WithSummary("Create a user")
            .WithDescription("email and role are required; name defaults to the email's local part; password (8–256 characters) is optional and only used by the web pages. kind is person (default) or service: a service account (a webhook, a BI tool, a CI job) has no password, cannot sign in on the web pages, and its tokens are created by admins with POST /api/tokens user_id=<its email or id>.");

        group.MapPatch("/{id:guid}", UpdateAsync)
            .RequireScope(Scopes.Users)
            .WithName("UpdateUser")
            .WithExampleBody(new UpdateUserRequest("Ada King", "admin", false, null))
            .WithSummary("Change a user's role, name, disabled flag or password")
            .WithDescription("Takes effect on the user's tokens at their next request. The last enabled admin cannot be demoted, disabled or deleted.");

        group.MapDelete("/{id:guid}", DeleteAsync)
            .RequireScope(Scopes.Users)
            .WithName("DeleteUser")
            .WithSummary("Delete a user and their tokens");

        return group;
    }

    private static async Task<Results<Ok<Page<UserDto>>, InvalidProblem>> ListAsync(
        [AsParameters] PageRequest paging, UserService users, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var (take, after) = paging.Read(Page.TimeAndId, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var rows = await users.ListAsync(take + 1, after, ct);
        return TypedResults.Ok(Page.From(rows, take, u => u.ToDto(), Page.TimeAndId, u => (u.CreatedAt, u.Id)));
    }

    private static async Task<Results<Created<UserDto>, InvalidProblem, ConflictProblem, ForbiddenProblem>> CreateAsync(
        CreateUserRequest request, ClaimsPrincipal caller, UserService users, CancellationToken ct)
    {
        // A password is an unscoped credential: a scoped or address-bound token never sets one (API.md §2).
        if (request.Password is not null && Minting.UnrestrictedRefusal(caller) is { } refused)
        {
            return refused;
        }

        var errors = new FieldErrors();
        UserService.ValidateEmail(request.Email, errors);
        UserService.ValidateName(request.Name, errors);
        UserService.ValidatePassword(request.Password, errors);
        var role = UserService.ParseRole(request.Role, errors, required: true);
        var kind = UserService.ParseKind(request.Kind, errors);
        UserService.ValidateServicePassword(kind, request.Password, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var user = await users.CreateAsync(request.Email!, request.Name, role!.Value, request.Password, kind, ct);
        return user is null
            ? Problems.Conflict("A user with that email already exists.")
            : TypedResults.Created($"/api/users/{user.Id}", user.ToDto());
    }

    private static async Task<Results<Ok<UserDto>, InvalidProblem, NotFoundProblem, ConflictProblem, ForbiddenProblem>> UpdateAsync(
        Guid id, UpdateUserRequest request, ClaimsPrincipal caller, UserService users, CancellationToken ct)
    {
        if (request.Password is not null && Minting.UnrestrictedRefusal(caller) is { } refused)
        {
            return refused;
        }

        var errors = new FieldErrors();
        if (request.Name is not null && string.IsNullOrWhiteSpace(request.Name))
        {
            errors.Add("name", "name must not be empty.");
        }

        UserService.ValidateName(request.Name, errors);
        UserService.ValidatePassword(request.Password, errors);
        var role = UserService.ParseRole(request.Role, errors, required: false);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        return await users.UnderAdminsLockAsync(() => ApplyUpdateAsync(id, request, role, users, ct), ct);
    }

    private static async Task<Results<Ok<UserDto>, InvalidProblem, NotFoundProblem, ConflictProblem, ForbiddenProblem>> ApplyUpdateAsync(
        Guid id, UpdateUserRequest request, Role? role, UserService users, CancellationToken ct)
    {
        var user = await users.FindAsync(id, ct);
        if (user is null)
        {
            return Problems.NotFound("No user with that id.");
        }

        var losesAdmin = user.Role == Role.Admin && !user.Disabled
            && ((role is { } r && r != Role.Admin) || request.Disabled == true);
        if (losesAdmin && !await users.AnotherActiveAdminExistsAsync(user.Id, ct))
        {
            return Problems.Conflict("This is the last enabled admin: make another admin first.");
        }

        if (request.Password is not null && user.Kind == UserKind.Service)
        {
            return Problems.Validation("password", "A service account has no password: it signs in with its tokens only.");
        }

        if (request.Name is not null)
        {
            user.Name = request.Name.Trim();
        }

        if (role is { } newRole)
        {
            user.Role = newRole;
        }

        if (request.Disabled is { } disabled)
        {
            user.Disabled = disabled;
        }

        if (request.Password is not null)
        {
            users.SetPassword(user, request.Password);
        }

        await users.SaveAsync(user, ct);
        return TypedResults.Ok(user.ToDto());
    }

    private static Task<Results<NoContent, NotFoundProblem, ConflictProblem>> DeleteAsync(
        Guid id, UserService users, CancellationToken ct)
        => users.UnderAdminsLockAsync(() => ApplyDeleteAsync(id, users, ct), ct);

    private static async Task<Results<NoContent, NotFoundProblem, ConflictProblem>> ApplyDeleteAsync(Guid id, UserService users, CancellationToken ct)
    {
        var user = await users.FindAsync(id, ct);
        if (user is null)
        {
            return Problems.NotFound("No user with that id.");
        }

        if (user.Role == Role.Admin && !user.Disabled && !await users.AnotherActiveAdminExistsAsync(user.Id, ct))
        {
            return Problems.Conflict("This is the last enabled admin: make another admin first.");
        }

        await users.DeleteAsync(user, ct);
        return TypedResults.NoContent();
    }
}

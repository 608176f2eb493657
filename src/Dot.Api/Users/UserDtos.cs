using Dot.Api.Access;

namespace Dot.Api.Users;

public sealed record UserDto(
    Guid Id,
    string Email,
    string Name,
    string Role,
    string Kind,
    bool Disabled,
    bool HasPassword,
    DateTime CreatedAt,
    DateTime UpdatedAt);

public sealed record CreateUserRequest(string? Email, string? Name, string? Role, string? Password, string? Kind = null);

public sealed record UpdateUserRequest(string? Name, string? Role, bool? Disabled, string? Password);

internal static class UserMapping
{
    public static UserDto ToDto(this User u)
        => new(u.Id, u.Email, u.Name, u.Role.ToName(), u.Kind.ToName(), u.Disabled, u.PasswordHash is not null, u.CreatedAt, u.UpdatedAt);
}

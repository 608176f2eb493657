namespace Dot.Api.Sessions;

public sealed record SessionUserDto(Guid Id, string Email, string Name, string Role);

/// <summary>
/// What the page needs to start: the signed-in user (null when signed out), whether the first admin must be
/// created and how, and the anti-forgery token to send in <see cref="AntiforgeryHeader"/> with every change.
/// </summary>
public sealed record SessionDto(
    SessionUserDto? User,
    bool SetupRequired,
    bool SetupAllowed,
    bool SetupKeyRequired,
    string AntiforgeryToken,
    string AntiforgeryHeader);

public sealed record SignInRequest(string? Email, string? Password);

public sealed record SetupRequest(string? Email, string? Name, string? Password, string? SetupKey);

namespace Dot.Api.Users;

/// <summary>
/// Told when a user's role, name, disabled flag or password changed, or the user was deleted — after the change is
/// saved, on the instance that made it — so what other features derived from the user is dropped (Tokens evicts the
/// user's verified tokens). Users knows nothing of those features: they register a handler.
/// </summary>
public interface IUserChangeHandler
{
    void UserChanged(Guid userId);
}

namespace Dot.Api.Access;

/// <summary>How the caller authenticated: <c>header</c>, <c>query</c> or <c>cookie</c>, and the token's id, name and expiry.</summary>
public sealed record AuthInfoDto(string Method, Guid? TokenId, string? TokenName, DateTime? ExpiresAt);

/// <summary>The answer of <c>/api/auth/me</c>, built once per principal (<see cref="DotPrincipal"/>).</summary>
public sealed record AuthMe(Guid Id, string Email, string Name, string Role, AuthInfoDto Auth);

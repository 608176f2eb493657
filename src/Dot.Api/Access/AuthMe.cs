namespace Dot.Api.Access;

/// <summary>How the caller authenticated: <c>header</c>, <c>query</c> or <c>cookie</c>, and the token's id, name and expiry.</summary>
/// <remarks><c>scopes</c> is the token's list, or <c>["*"]</c> for an unscoped token and for a web session.</remarks>
public sealed record AuthInfoDto(string Method, Guid? TokenId, string? TokenName, DateTime? ExpiresAt, IReadOnlyList<string> Scopes);

/// <summary>The answer of <c>/api/auth/me</c>, built once per principal (<see cref="DotPrincipal"/>).</summary>
public sealed record AuthMe(Guid Id, string Email, string Name, string Role, AuthInfoDto Auth);

using System.Net;
using Microsoft.AspNetCore.Authentication;

namespace Dot.Api.Authentication;

/// <summary>
/// What the API-token scheme tells its subscribers, in the BearerToken shape: a credential arrived, a token was
/// validated, a credential was refused. The handler verifies; throttling, the failure audit and last-used
/// recording listen here (<see cref="DotApiTokenEvents"/>).
/// </summary>
public class ApiTokenEvents
{
    /// <summary>
    /// A credential was read from the request; a subscriber may replace <see cref="ApiTokenMessageReceivedContext.Token"/>
    /// or decide. Null (the default) when nobody listens: then no context is built for it.
    /// </summary>
    public Func<ApiTokenMessageReceivedContext, Task>? OnMessageReceived { get; set; }

    /// <summary>The token is known, in force, its owner enabled, and <c>user_id</c> names the owner where it must.</summary>
    public Func<ApiTokenValidatedContext, Task> OnTokenValidated { get; set; } = _ => Task.CompletedTask;

    /// <summary>A credential was sent and refused (<see cref="ApiTokenFailedContext.Failure"/> says why).</summary>
    public Func<ApiTokenFailedContext, Task> OnAuthenticationFailed { get; set; } = _ => Task.CompletedTask;

    public virtual Task TokenValidated(ApiTokenValidatedContext context) => OnTokenValidated(context);

    public virtual Task AuthenticationFailed(ApiTokenFailedContext context) => OnAuthenticationFailed(context);
}

/// <summary>A credential as read from the request, before it is verified.</summary>
public sealed class ApiTokenMessageReceivedContext(HttpContext context, AuthenticationScheme scheme, ApiTokenOptions options,
    string token, CredentialSource source)
    : ResultContext<ApiTokenOptions>(context, scheme, options)
{
    public string Token { get; set; } = token;

    public CredentialSource Source { get; } = source;
}

/// <summary>A token that authenticates the request; <see cref="ResultContext{T}.Principal"/> is the caller.</summary>
public sealed class ApiTokenValidatedContext(HttpContext context, AuthenticationScheme scheme, ApiTokenOptions options,
    Guid tokenId, CredentialSource source, DateTime at)
    : ResultContext<ApiTokenOptions>(context, scheme, options)
{
    public Guid TokenId { get; } = tokenId;

    public CredentialSource Source { get; } = source;

    /// <summary>The handler's clock at validation.</summary>
    public DateTime At { get; } = at;

    /// <summary><c>header</c> or <c>query</c>, as <c>last_used_via</c> and <c>/api/auth/me</c> name it.</summary>
    public string Via => Source.Name();
}

/// <summary>A refused credential: why, the client's address, and the credential's public hint at most — never the secret.</summary>
public sealed class ApiTokenFailedContext(HttpContext context, AuthenticationScheme scheme, ApiTokenOptions options,
    AuthFailure failure, string? hint)
    : ResultContext<ApiTokenOptions>(context, scheme, options)
{
    public AuthFailure Failure { get; } = failure;

    public string? Hint { get; } = hint;

    public IPAddress? Address => HttpContext.Connection.RemoteIpAddress;
}

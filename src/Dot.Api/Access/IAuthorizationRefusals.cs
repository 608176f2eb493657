namespace Dot.Api.Access;

/// <summary>
/// Answers authorization's challenge (401) or forbid (403) for a request without the authentication service, when the
/// scheme that would answer it can say so itself from what authentication already decided (the API-token scheme can:
/// <c>Authentication.TokenSchemeRefusals</c>). Null: not for this request; <see cref="DotAuthorizationResultHandler"/>
/// then answers the framework's way, through the default scheme.
/// </summary>
public interface IAuthorizationRefusals
{
    /// <summary>The default challenge's answer, or null.</summary>
    Task? Challenge(HttpContext context);

    /// <summary>The default forbid's answer, or null.</summary>
    Task? Forbid(HttpContext context);
}

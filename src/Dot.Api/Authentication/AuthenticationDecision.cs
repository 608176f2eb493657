using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features.Authentication;

namespace Dot.Api.Authentication;

/// <summary>
/// What <see cref="DotAuthenticationMiddleware"/> decided for a request that presented a credential: the scheme, its
/// result and, on a refusal, why (<see cref="Failure"/>, which <see cref="Refusals.Challenge"/> answers). On a success
/// it is also ASP.NET Core's own <see cref="IAuthenticateResultFeature"/> and <see cref="IHttpAuthenticationFeature"/>,
/// as <c>AuthenticationMiddleware</c> sets them (<see cref="HttpContext.User"/> reads the principal from here).
/// </summary>
internal sealed class AuthenticationDecision(string schemeName, AuthenticateResult result, AuthFailure? failure = null)
    : IAuthenticateResultFeature, IHttpAuthenticationFeature
{
    private AuthenticateResult? _result = result;

    public string SchemeName { get; } = schemeName;

    public AuthenticateResult? Result => _result;

    public bool Succeeded => _result?.Succeeded == true;

    /// <summary>Why the credential was not taken: the token's own refusal, or the caller's when it named none (a session that ended).</summary>
    public AuthFailure Failure => (_result is null ? null : AuthFailure.Of(_result)) ?? failure ?? AuthFailure.Missing;

    AuthenticateResult? IAuthenticateResultFeature.AuthenticateResult
    {
        get => _result;
        set
        {
            _result = value;
            User = value?.Principal;
        }
    }

    public ClaimsPrincipal? User { get; set; } = result.Principal;
}

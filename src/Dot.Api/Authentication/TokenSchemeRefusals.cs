using Dot.Api.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Dot.Api.Authentication;

/// <summary>
/// Authorization's 401 and 403 for a request whose default challenge and forbid end at the API-token scheme — the
/// default scheme (<see cref="CredentialSchemes.Selector"/>) sends every request there but one with a session
/// cookie and no token — answered as <see cref="ApiTokenHandler"/> answers them (the same writers, the same log lines
/// under its category), from the verdict <see cref="DotAuthenticationMiddleware"/> kept, without building the
/// authentication service, the selector's handler and the token handler for the request. Only while the schemes are as
/// this server registers them: the selector forwarding by <see cref="CredentialSchemes.Select"/> alone, the token
/// scheme's handler <see cref="ApiTokenHandler"/> forwarding nothing, no claims transformation. Otherwise null, and the
/// framework's way answers.
/// </summary>
internal sealed partial class TokenSchemeRefusals(IAuthenticationSchemeProvider schemes, IOptionsMonitor<ApiTokenOptions> tokenOptions,
    IOptionsMonitor<PolicySchemeOptions> selectorOptions, IClaimsTransformation claimsTransformation, ILoggerFactory loggers) : IAuthorizationRefusals
{
    private readonly ILogger _handlerLogger = loggers.CreateLogger(typeof(ApiTokenHandler).FullName!);
    private bool? _applies;

    public Task? Challenge(HttpContext context)
    {
        if (VerdictOf(context) is not { } verdict)
        {
            return null;
        }

        return Logged(ApiTokenHandler.WriteChallengeAsync(context, verdict.Result), challenged: true);
    }

    public Task? Forbid(HttpContext context)
        => VerdictOf(context) is null ? null : Logged(AuthProblems.WriteInsufficientRoleAsync(context), challenged: false);

    /// <summary>What the token handler would find for this request (its <see cref="AuthenticationDecision"/>, or nothing sent); null when the request's challenge would not reach it.</summary>
    private Verdict? VerdictOf(HttpContext context)
    {
        if (!(_applies ??= Applies()))
        {
            return null;
        }

        if (context.Features.Get<AuthenticationDecision>() is { } decision)
        {
            return decision.SchemeName == ApiTokenDefaults.AuthenticationScheme ? new Verdict(decision.Result) : null;
        }

        // Nothing decided: only a request without a credential goes to the token scheme (whose 401 names what is missing).
        return CredentialSchemes.Presented(context.Request, ApiTokenCredential.Read(context)) is null ? new Verdict(null) : null;
    }

    private Task Logged(Task writing, bool challenged)
    {
        if (writing.IsCompletedSuccessfully)
        {
            Log(challenged);
            return Task.CompletedTask;
        }

        return LoggedAsync(writing, challenged);
    }

    private async Task LoggedAsync(Task writing, bool challenged)
    {
        await writing;
        Log(challenged);
    }

    /// <summary>AuthenticationHandler's own lines after a challenge or forbid, under the token handler's category.</summary>
    private void Log(bool challenged)
    {
        if (challenged)
        {
            Challenged(_handlerLogger, ApiTokenDefaults.AuthenticationScheme);
        }
        else
        {
            Forbidden(_handlerLogger, ApiTokenDefaults.AuthenticationScheme);
        }
    }

    private bool Applies()
    {
        var token = schemes.GetSchemeAsync(ApiTokenDefaults.AuthenticationScheme).GetAwaiter().GetResult();
        if (!ApiTokenHandler.RunsWithoutService(token, claimsTransformation))
        {
            return false;
        }

        var options = tokenOptions.Get(ApiTokenDefaults.AuthenticationScheme);
        if (options.ForwardChallenge is not null || options.ForwardForbid is not null || options.ForwardDefault is not null
            || options.ForwardDefaultSelector is not null)
        {
            return false;
        }

        return EndsAtToken(schemes.GetDefaultChallengeSchemeAsync().GetAwaiter().GetResult(), forbid: false)
            && EndsAtToken(schemes.GetDefaultForbidSchemeAsync().GetAwaiter().GetResult(), forbid: true);
    }

    private bool EndsAtToken(AuthenticationScheme? scheme, bool forbid)
    {
        if (scheme?.Name == ApiTokenDefaults.AuthenticationScheme)
        {
            return true;
        }

        if (scheme?.Name != CredentialSchemes.Selector || scheme.HandlerType != typeof(PolicySchemeHandler))
        {
            return false;
        }

        var selector = selectorOptions.Get(CredentialSchemes.Selector);
        return (forbid ? selector.ForwardForbid : selector.ForwardChallenge) is null && selector.ForwardDefault is null
            && selector.ForwardDefaultSelector is { } select && select.Method == ((Func<HttpContext, string>)CredentialSchemes.Select).Method;
    }

    private readonly record struct Verdict(AuthenticateResult? Result);

    [LoggerMessage(12, LogLevel.Information, "AuthenticationScheme: {AuthenticationScheme} was challenged.", EventName = "AuthenticationSchemeChallenged")]
    private static partial void Challenged(ILogger logger, string authenticationScheme);

    [LoggerMessage(13, LogLevel.Information, "AuthenticationScheme: {AuthenticationScheme} was forbidden.", EventName = "AuthenticationSchemeForbidden")]
    private static partial void Forbidden(ILogger logger, string authenticationScheme);
}

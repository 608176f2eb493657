using System.Text.Encodings.Web;
using Dot.Api.Access;
using Dot.Api.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Dot.Api.Authentication;

/// <summary>
/// The API-token scheme of API.md §3: a header token everywhere, a URL token only on endpoints carrying
/// <see cref="AllowApiTokenInQueryAttribute"/>, each refusal with its own reason. The rules of a token itself are
/// <see cref="TokenVerifier"/>'s; what happens around a verdict (throttling, audit, last-used) is the
/// <see cref="ApiTokenEvents"/> subscribers'. Time is the base class's <see cref="AuthenticationHandler{T}.TimeProvider"/>.
/// </summary>
internal sealed class ApiTokenHandler(IOptionsMonitor<ApiTokenOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder)
    : AuthenticationHandler<ApiTokenOptions>(options, loggerFactory, encoder)
{
    /// <summary>
    /// The verdict <see cref="DotAuthenticationMiddleware"/>, the only caller of the token check, reached on this request;
    /// nothing when it reached none (no token came, or it was not this scheme's).
    /// </summary>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        => Task.FromResult(Context.Features.Get<AuthenticationDecision>() is { SchemeName: var decidedBy, Result: { } decided } && decidedBy == Scheme.Name
            ? decided
            : AuthenticateResult.NoResult());

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        => Refusals.WriteAsync(Context, Refusals.Challenge(Context));

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        => Refusals.WriteAsync(Context, AuthFailure.InsufficientRole(Context.User.Role()));
}

/// <summary>
/// One API-token check of one request: <see cref="TokenVerifier"/>'s one verdict for the credential and this request,
/// as the scheme's answer, with the scheme's events around it. <see cref="DotAuthenticationMiddleware"/> runs it for a
/// request that carries a token, and nothing else does. One async method: completed
/// synchronously (a cache hit, no subscriber that waits), it allocates no task, and its success is the cached token's
/// own (<see cref="CachedToken.Success"/>), made once.
/// </summary>
internal readonly partial struct ApiTokenAttempt(HttpContext context, AuthenticationScheme scheme, ApiTokenOptions options, ApiTokenEvents events,
    TimeProvider time, TokenVerifier verifier, ILogger logger)
{
    private static readonly AuthenticateResult NoResult = AuthenticateResult.NoResult();

    public async ValueTask<AuthenticateResult> RunAsync(ApiTokenCredential credential)
    {
        if (!credential.IsPresent)
        {
            return NoResult;
        }

        var source = credential.Source;
        if (source == CredentialSource.Query && context.GetEndpoint()?.Metadata.GetMetadata<AllowApiTokenInQueryAttribute>() is null)
        {
            // A URL token authenticates nothing here (nothing is counted against it); the challenge says why.
            return context.RequestServices.GetRequiredService<QueryTokenRoutes>().NotAllowed.Result;
        }

        var token = credential.Token!;
        if (events.OnMessageReceived is { } onMessageReceived)
        {
            // Only when someone listens is a context built: a subscriber may replace the token, or decide.
            var received = new ApiTokenMessageReceivedContext(context, scheme, options, token, source);
            await onMessageReceived(received);
            if (received.Result is { } decided)
            {
                return decided;
            }

            token = received.Token;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var client = context.Connection.RemoteIpAddress;
        var request = source == CredentialSource.Query
            ? new TokenRequest(InUrl: true, ApiTokenCredential.UserId(context.Request, options), client)
            : TokenRequest.InHeader(client);
        var verification = await verifier.VerifyAsync(token, request, now, context.RequestAborted);
        if (Failure(verification.Verdict) is { } failure)
        {
            // Too long or malformed: nothing of it is recorded, not even a hint.
            var hint = verification.Verdict is TokenVerdict.TooLong or TokenVerdict.Malformed ? null : TokenFormat.HintOf(token);
            Log.Refused(logger, failure.Code);
            var failed = new ApiTokenFailedContext(context, scheme, options, failure, hint);
            await events.AuthenticationFailed(failed);
            return failed.Result ?? failure.Result;
        }

        var entry = verification.Entry!;
        var validated = new ApiTokenValidatedContext(context, scheme, options, entry.Token.TokenId, source, now)
        {
            Principal = entry.Principal(scheme.Name, source.Name()),
        };
        await events.TokenValidated(validated);
        if (validated.Result is { } replaced)
        {
            return replaced;
        }

        if (entry.ExpirationHeader is { } expiration)
        {
            context.Response.Headers[ApiTokenDefaults.ExpirationHeader] = expiration;
        }

        // The principal the cache made: the success made with it once. One a subscriber replaced: a success of its own.
        return entry.Success(scheme.Name, validated.Via, validated.Principal!);
    }

    /// <summary>The verifier's verdict as this scheme's refusal; null for a valid token.</summary>
    private static AuthFailure? Failure(TokenVerdict verdict) => verdict switch
    {
        TokenVerdict.Valid => null,
        TokenVerdict.TooLong => AuthFailure.TooLong,
        TokenVerdict.Malformed => AuthFailure.Malformed,
        TokenVerdict.BadChecksum => AuthFailure.BadChecksum,
        TokenVerdict.Unknown => AuthFailure.Unknown,
        TokenVerdict.Expired => AuthFailure.Expired,
        TokenVerdict.Revoked => AuthFailure.Revoked,
        TokenVerdict.Disabled => AuthFailure.Disabled,
        TokenVerdict.UserIdMissing => AuthFailure.UserIdMissing,
        TokenVerdict.UserIdMismatch => AuthFailure.UserIdMismatch,
        TokenVerdict.IpNotAllowed => AuthFailure.IpNotAllowed,
        _ => throw new InvalidOperationException($"Unknown verdict {verdict}."),
    };

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Debug, "API token refused: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);
    }
}

using System.Text.Encodings.Web;
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
internal sealed class ApiTokenHandler(IOptionsMonitor<ApiTokenOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder,
    TokenVerifier verifier)
    : AuthenticationHandler<ApiTokenOptions>(options, loggerFactory, encoder)
{
    internal static readonly object QueryRefusedKey = new();

    /// <summary>
    /// Whether the scheme's work may be done without the authentication service (<see cref="DotAuthenticationMiddleware"/>
    /// checks, <see cref="TokenSchemeRefusals"/> answers): its handler is this one and no claims transformation would run.
    /// </summary>
    internal static bool RunsWithoutService(AuthenticationScheme? scheme, IClaimsTransformation claimsTransformation)
        => scheme?.HandlerType == typeof(ApiTokenHandler) && claimsTransformation is NoopClaimsTransformation;

    private new ApiTokenEvents Events => (ApiTokenEvents)base.Events!;

    protected override Task<object> CreateEventsAsync() => Task.FromResult<object>(new ApiTokenEvents());

    /// <summary>
    /// The verdict <see cref="DotAuthenticationMiddleware"/> reached on this request, when it did (the challenge after
    /// a refusal asks again, and must not count the refusal twice); otherwise the check itself (<see cref="ApiTokenAttempt"/>).
    /// </summary>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        => Context.Features.Get<AuthenticationDecision>() is { SchemeName: var decidedBy, Result: { } decided } && decidedBy == Scheme.Name
            ? Task.FromResult(decided)
            : new ApiTokenAttempt(Context, Scheme, Options, Events, TimeProvider, verifier, Logger).RunAsync(ApiTokenCredential.Read(Request, Options)).AsTask();

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
        => await WriteChallengeAsync(Context, await HandleAuthenticateOnceSafeAsync());

    /// <summary>The 401 for a request's verdict: why the token was refused, or why none was taken (a URL token here), or that none came.</summary>
    internal static Task WriteChallengeAsync(HttpContext context, AuthenticateResult? result)
        => AuthProblems.WriteUnauthorizedAsync(context, (result is null ? null : AuthFailure.Of(result))
            ?? context.Items[QueryRefusedKey] as AuthFailure
            ?? AuthFailure.Missing);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        => AuthProblems.WriteInsufficientRoleAsync(Context);
}

/// <summary>
/// One API-token check of one request: <see cref="TokenVerifier"/>'s one verdict for the credential and this request,
/// as the scheme's answer, with the scheme's events around it. <see cref="DotAuthenticationMiddleware"/> runs it for a
/// request that carries a token; the handler only when the framework asks it directly. One async method: completed
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
            // A URL token authenticates nothing here; the challenge says why.
            context.Items[ApiTokenHandler.QueryRefusedKey] = context.RequestServices.GetRequiredService<QueryTokenRoutes>().NotAllowed;
            return NoResult;
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

/// <summary>
/// What <see cref="DotAuthenticationMiddleware"/> decided for a request: the scheme and its result, for the handler
/// when the challenge asks again; on a success also ASP.NET Core's own features, as <c>AuthenticationMiddleware</c>
/// sets them (authorization reads <see cref="IAuthenticateResultFeature"/>).
/// </summary>
internal sealed class AuthenticationDecision(string schemeName, AuthenticateResult result) : IAuthenticateResultFeature,
    Microsoft.AspNetCore.Http.Features.Authentication.IHttpAuthenticationFeature
{
    private AuthenticateResult? _result = result;

    public string SchemeName { get; } = schemeName;

    public AuthenticateResult? Result => _result;

    AuthenticateResult? IAuthenticateResultFeature.AuthenticateResult
    {
        get => _result;
        set
        {
            _result = value;
            User = value?.Principal;
        }
    }

    public System.Security.Claims.ClaimsPrincipal? User { get; set; } = result.Principal;
}

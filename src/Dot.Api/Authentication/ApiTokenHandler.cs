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
internal sealed partial class ApiTokenHandler(IOptionsMonitor<ApiTokenOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder,
    TokenVerifier verifier)
    : AuthenticationHandler<ApiTokenOptions>(options, loggerFactory, encoder)
{
    private static readonly object QueryRefusedKey = new();
    private static readonly Task<AuthenticateResult> NoResult = Task.FromResult(AuthenticateResult.NoResult());

    private new ApiTokenEvents Events => (ApiTokenEvents)base.Events!;

    protected override Task<object> CreateEventsAsync() => Task.FromResult<object>(new ApiTokenEvents());

    /// <summary>Synchronous while nothing has to wait: a cache hit costs no state machine.</summary>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var credential = ApiTokenCredential.Read(Request, Options);
        if (!credential.IsPresent)
        {
            return NoResult;
        }

        if (credential.Source == CredentialSource.Query && Context.GetEndpoint()?.Metadata.GetMetadata<AllowApiTokenInQueryAttribute>() is null)
        {
            // A URL token authenticates nothing here; the challenge says why.
            Context.Items[QueryRefusedKey] = Context.RequestServices.GetRequiredService<QueryTokenRoutes>().NotAllowed;
            return NoResult;
        }

        var received = new ApiTokenMessageReceivedContext(Context, Scheme, Options, credential.Token!, credential.Source);
        var handled = Events.MessageReceived(received);
        return handled.IsCompletedSuccessfully ? AfterMessageReceived(received) : AfterMessageReceivedAsync(handled, received);
    }

    private async Task<AuthenticateResult> AfterMessageReceivedAsync(Task handled, ApiTokenMessageReceivedContext received)
    {
        await handled;
        return await AfterMessageReceived(received);
    }

    private Task<AuthenticateResult> AfterMessageReceived(ApiTokenMessageReceivedContext received)
    {
        if (received.Result is { } decided)
        {
            return Task.FromResult(decided);
        }

        var now = TimeProvider.GetUtcNow().UtcDateTime;
        var verifying = verifier.VerifyAsync(received.Token, now, Context.RequestAborted);
        return verifying.IsCompletedSuccessfully
            ? Judge(verifying.Result, received, now)
            : JudgeAsync(verifying, received, now);
    }

    private async Task<AuthenticateResult> JudgeAsync(ValueTask<TokenVerification> verifying, ApiTokenMessageReceivedContext received, DateTime now)
        => await Judge(await verifying, received, now);

    /// <summary>The verdict, then what only a request knows: a URL token's <c>user_id</c> must name the owner.</summary>
    private Task<AuthenticateResult> Judge(TokenVerification verification, ApiTokenMessageReceivedContext received, DateTime now)
    {
        var failure = verification.Verdict switch
        {
            TokenVerdict.Valid => null,
            TokenVerdict.TooLong => AuthFailure.TooLong,
            TokenVerdict.Malformed => AuthFailure.Malformed,
            TokenVerdict.BadChecksum => AuthFailure.BadChecksum,
            TokenVerdict.Unknown => AuthFailure.Unknown,
            TokenVerdict.Expired => AuthFailure.Expired,
            TokenVerdict.Revoked => AuthFailure.Revoked,
            _ => AuthFailure.Disabled,
        };
        if (failure is null && received.Source == CredentialSource.Query)
        {
            var userId = ApiTokenCredential.UserId(Request, Options);
            failure = string.IsNullOrEmpty(userId) ? AuthFailure.UserIdMissing
                : NamesOwner(userId, verification.Entry!.Token) ? null
                : AuthFailure.UserIdMismatch;
        }

        // The place, once the token is known and before anything notes its use: outside allowed_ips it is a refusal.
        if (failure is null && verification.Entry!.AllowedNetworks is { } networks && !AllowedIps.Contains(networks, Context.Connection.RemoteIpAddress))
        {
            failure = AuthFailure.IpNotAllowed;
        }

        // Too long or malformed: nothing of it is recorded, not even a hint.
        return failure is not null
            ? Fail(failure, verification.Verdict is TokenVerdict.TooLong or TokenVerdict.Malformed ? null : TokenFormat.HintOf(received.Token))
            : Succeed(verification.Entry!, received.Source, now);
    }

    private Task<AuthenticateResult> Succeed(CachedToken entry, CredentialSource source, DateTime now)
    {
        var validated = new ApiTokenValidatedContext(Context, Scheme, Options, entry.Token.TokenId, source, now)
        {
            Principal = entry.Principal(Scheme.Name, source.Name()),
        };
        var handled = Events.TokenValidated(validated);
        return handled.IsCompletedSuccessfully ? Task.FromResult(Finish(validated, entry)) : FinishAsync(handled, validated, entry);
    }

    private async Task<AuthenticateResult> FinishAsync(Task handled, ApiTokenValidatedContext validated, CachedToken entry)
    {
        await handled;
        return Finish(validated, entry);
    }

    private AuthenticateResult Finish(ApiTokenValidatedContext validated, CachedToken entry)
    {
        if (validated.Result is { } decided)
        {
            return decided;
        }

        if (entry.ExpirationHeader is { } expiration)
        {
            Response.Headers[ApiTokenDefaults.ExpirationHeader] = expiration;
        }

        return AuthenticateResult.Success(new AuthenticationTicket(validated.Principal!, Scheme.Name));
    }

    private static bool NamesOwner(string userId, VerifiedToken token)
        => Guid.TryParse(userId, out var id)
            ? id == token.UserId
            : string.Equals(userId.Trim(), token.Email, StringComparison.OrdinalIgnoreCase);

    private Task<AuthenticateResult> Fail(AuthFailure failure, string? hint)
    {
        Log.Refused(Logger, failure.Code);
        var failed = new ApiTokenFailedContext(Context, Scheme, Options, failure, hint);
        var handled = Events.AuthenticationFailed(failed);
        return handled.IsCompletedSuccessfully ? Task.FromResult(failed.Result ?? failure.Result) : FailAsync(handled, failed);
    }

    private static async Task<AuthenticateResult> FailAsync(Task handled, ApiTokenFailedContext failed)
    {
        await handled;
        return failed.Result ?? failed.Failure.Result;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var failure = AuthFailure.Of(result)
            ?? Context.Items[QueryRefusedKey] as AuthFailure
            ?? AuthFailure.Missing;

        await AuthProblems.WriteUnauthorizedAsync(Context, failure);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        => AuthProblems.WriteInsufficientRoleAsync(Context);

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Debug, "API token refused: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);
    }
}

using System.Text.Encodings.Web;
using Dot.Api.Audit;
using Dot.Api.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Dot.Api.Authentication;

/// <summary>
/// The API-token scheme of API.md §3: a header token everywhere, a URL token only on endpoints
/// carrying <see cref="AllowApiTokenInQueryAttribute"/>, each refusal with its own reason.
/// </summary>
internal sealed partial class ApiTokenHandler(
    IOptionsMonitor<ApiTokenOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    TokenLookup lookup,
    VerifiedTokenCache cache,
    FailureThrottle throttle,
    AuthFailureAudit audit,
    TokenUsageRecorder usage,
    TimeProvider time)
    : AuthenticationHandler<ApiTokenOptions>(options, loggerFactory, encoder)
{
    private static readonly object QueryRefusedKey = new();
    private static readonly Task<AuthenticateResult> NoResult = Task.FromResult(AuthenticateResult.NoResult());

    /// <summary>Synchronous unless the token has to be looked up: a cache hit costs no state machine.</summary>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string via;
        StringValues userId = default;
        var credential = ReadHeader();
        if (!StringValues.IsNullOrEmpty(credential))
        {
            via = "header";
        }
        else if (QueryCredential.Find(Request.QueryString, Options.QueryTokenParameter) is { Length: > 0 } queryToken)
        {
            if (Context.GetEndpoint()?.Metadata.GetMetadata<AllowApiTokenInQueryAttribute>() is null)
            {
                // A URL token authenticates nothing here; the challenge says why.
                Context.Items[QueryRefusedKey] = AuthFailure.QueryNotAllowed;
                return NoResult;
            }

            via = "query";
            credential = queryToken;
            userId = QueryCredential.Find(Request.QueryString, Options.QueryUserParameter);
        }
        else
        {
            return NoResult;
        }

        return Verify(credential.ToString(), via, userId);
    }

    private Task<AuthenticateResult> Verify(string token, string via, StringValues userId)
    {
        if (token.Length > ApiTokenDefaults.MaxCredentialLength)
        {
            Fail(AuthFailure.TooLong);
            return AuthFailure.TooLong.ResultTask;
        }

        switch (TokenFormat.Check(token))
        {
            case TokenShape.Malformed:
                Fail(AuthFailure.Malformed);
                return AuthFailure.Malformed.ResultTask;
            case TokenShape.BadChecksum:
                Fail(AuthFailure.BadChecksum, token);
                return AuthFailure.BadChecksum.ResultTask;
        }

        var key = HashKey(token);
        return cache.TryGet(key, out var entry)
            ? Task.FromResult(Check(entry, via, userId, token))
            : LookUpAsync(key, token, via, userId);
    }

    private async Task<AuthenticateResult> LookUpAsync(TokenHashKey key, string token, string via, StringValues userId)
    {
        var found = await lookup.FindAsync(key.ToArray(), Context.RequestAborted);
        return found is null
            ? Fail(AuthFailure.Unknown, token)
            : Check(cache.Add(key, found), via, userId, token);
    }

    private static TokenHashKey HashKey(string token)
    {
        Span<byte> hash = stackalloc byte[32];
        TokenFormat.Hash(token, hash);
        return TokenHashKey.From(hash);
    }

    /// <summary>State, owner and user_id, checked against the clock on every request, cached or not.</summary>
    private AuthenticateResult Check(CachedToken entry, string via, StringValues userId, string token)
    {
        var found = entry.Token;
        var now = time.GetUtcNow().UtcDateTime;
        if (found.RevokedAt is { } revoked && revoked <= now)
        {
            return Fail(AuthFailure.Revoked, token);
        }

        if (found.ExpiresAt is { } expires && expires <= now)
        {
            return Fail(AuthFailure.Expired, token);
        }

        if (found.GraceEndsAt is { } graceEnds && graceEnds <= now)
        {
            return Fail(AuthFailure.Revoked, token);
        }

        if (found.Disabled)
        {
            return Fail(AuthFailure.Disabled, token);
        }

        if (via == "query")
        {
            if (StringValues.IsNullOrEmpty(userId))
            {
                return Fail(AuthFailure.UserIdMissing, token);
            }

            if (!NamesOwner(userId.ToString(), found))
            {
                return Fail(AuthFailure.UserIdMismatch, token);
            }
        }

        usage.Record(found.TokenId, new TokenUsage(now, Context.Connection.RemoteIpAddress, via));
        if (entry.ExpirationHeader is { } expiration)
        {
            Response.Headers[ApiTokenDefaults.ExpirationHeader] = expiration;
        }

        return AuthenticateResult.Success(new AuthenticationTicket(entry.Principal(Scheme.Name, via), Scheme.Name));
    }

    private static bool NamesOwner(string userId, VerifiedToken token)
        => Guid.TryParse(userId, out var id)
            ? id == token.UserId
            : string.Equals(userId.Trim(), token.Email, StringComparison.OrdinalIgnoreCase);

    private StringValues ReadHeader()
    {
        foreach (var name in Options.HeaderNames)
        {
            if (Request.Headers.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value))
            {
                return value;
            }
        }

        return StringValues.Empty;
    }

    private AuthenticateResult Fail(AuthFailure failure, string? credential = null)
    {
        Log.Refused(Logger, failure.Code);
        throttle.RecordFailure(Context.Connection.RemoteIpAddress);
        audit.Record(Context.Connection.RemoteIpAddress, failure.Code, credential);
        return failure.Result;
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

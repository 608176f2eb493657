using System.Globalization;
using System.Text.Encodings.Web;
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
    TokenUsageRecorder usage,
    TimeProvider time)
    : AuthenticationHandler<ApiTokenOptions>(options, loggerFactory, encoder)
{
    private static readonly object QueryRefusedKey = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string via;
        StringValues userId = default;
        var credential = ReadHeader();
        if (!StringValues.IsNullOrEmpty(credential))
        {
            via = "header";
        }
        else if (Request.Query.TryGetValue(Options.QueryTokenParameter, out credential) && !StringValues.IsNullOrEmpty(credential))
        {
            if (Context.GetEndpoint()?.Metadata.GetMetadata<AllowApiTokenInQueryAttribute>() is null)
            {
                // A URL token authenticates nothing here; the challenge says why.
                Context.Items[QueryRefusedKey] = AuthFailure.QueryNotAllowed;
                return AuthenticateResult.NoResult();
            }

            via = "query";
            userId = Request.Query[Options.QueryUserParameter];
        }
        else
        {
            return AuthenticateResult.NoResult();
        }

        return await VerifyAsync(credential.ToString(), via, userId);
    }

    private async Task<AuthenticateResult> VerifyAsync(string token, string via, StringValues userId)
    {
        if (token.Length > ApiTokenDefaults.MaxCredentialLength)
        {
            return Fail(AuthFailure.TooLong);
        }

        switch (TokenFormat.Check(token))
        {
            case TokenShape.Malformed: return Fail(AuthFailure.Malformed);
            case TokenShape.BadChecksum: return Fail(AuthFailure.BadChecksum);
        }

        var hash = TokenFormat.Hash(token);
        var found = await lookup.FindAsync(hash, Context.RequestAborted);
        if (found is null)
        {
            return Fail(AuthFailure.Unknown);
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (found.RevokedAt is { } revoked && revoked <= now)
        {
            return Fail(AuthFailure.Revoked);
        }

        if (found.ExpiresAt is { } expires && expires <= now)
        {
            return Fail(AuthFailure.Expired);
        }

        if (found.GraceEndsAt is { } graceEnds && graceEnds <= now)
        {
            return Fail(AuthFailure.Revoked);
        }

        if (found.Disabled)
        {
            return Fail(AuthFailure.Disabled);
        }

        if (via == "query")
        {
            if (StringValues.IsNullOrEmpty(userId))
            {
                return Fail(AuthFailure.UserIdMissing);
            }

            if (!NamesOwner(userId.ToString(), found))
            {
                return Fail(AuthFailure.UserIdMismatch);
            }
        }

        usage.Record(found.TokenId, new TokenUsage(now, Context.Connection.RemoteIpAddress?.ToString(), via));
        if (found.ExpiresAt is { } expiresAt)
        {
            Response.Headers[ApiTokenDefaults.ExpirationHeader] = expiresAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        var principal = DotClaims.Create(Scheme.Name, found.UserId, found.Email, found.UserName, found.Role, via,
            found.TokenId, found.TokenName, found.ExpiresAt);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
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

    private AuthenticateResult Fail(AuthFailure failure)
    {
        Log.Refused(Logger, failure.Code);
        return failure.Result;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var failure = AuthFailure.Of(result)
            ?? Context.Items[QueryRefusedKey] as AuthFailure
            ?? AuthFailure.Missing;

        await AuthProblems.WriteUnauthorizedAsync(Context, failure.Detail, failure.Code);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        => AuthProblems.WriteInsufficientRoleAsync(Context);

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Information, "API token refused: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);
    }
}

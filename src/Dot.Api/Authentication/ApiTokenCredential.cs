using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Dot.Api.Authentication;

/// <summary>Where a token came from.</summary>
public enum CredentialSource
{
    None,
    Header,
    Query,
}

public static class CredentialSources
{
    public static string Name(this CredentialSource source) => source switch
    {
        CredentialSource.Header => "header",
        CredentialSource.Query => "query",
        _ => "none",
    };
}

/// <summary>
/// The one reader of "does this request carry a token, and which": the handler, the throttle and the scheme selector
/// all ask it, so they cannot disagree. A header counts when it has a non-empty value (API-KEY, then X-API-KEY); else
/// <c>api_token</c> with a non-empty value, read percent-decoded from the raw query string (the first one counts).
/// The header beats the query.
/// </summary>
public readonly record struct ApiTokenCredential(CredentialSource Source, string? Token)
{
    public bool IsPresent => Source != CredentialSource.None;

    public static ApiTokenCredential Read(HttpRequest request, ApiTokenOptions options)
    {
        // By index: a foreach over the IList would box its enumerator, on every request with or without a token.
        var names = options.HeaderNames;
        for (var i = 0; i < names.Count; i++)
        {
            if (request.Headers.TryGetValue(names[i], out var value) && !StringValues.IsNullOrEmpty(value))
            {
                return new ApiTokenCredential(CredentialSource.Header, value.ToString());
            }
        }

        return QueryCredential.Find(request.QueryString, options.QueryTokenParameter) is { Length: > 0 } token
            ? new ApiTokenCredential(CredentialSource.Query, token)
            : default;
    }

    /// <summary>The same, with the scheme's options from the request's services (for middleware outside the handler).</summary>
    public static ApiTokenCredential Read(HttpContext context)
        => Read(context.Request, context.RequestServices.GetRequiredService<IOptionsMonitor<ApiTokenOptions>>()
            .Get(ApiTokenDefaults.AuthenticationScheme));

    /// <summary><c>user_id</c> beside a URL token (the first one; percent-decoded).</summary>
    public static string? UserId(HttpRequest request, ApiTokenOptions options)
        => QueryCredential.Find(request.QueryString, options.QueryUserParameter);
}

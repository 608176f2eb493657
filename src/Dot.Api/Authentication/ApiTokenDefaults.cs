namespace Dot.Api.Authentication;

public static class ApiTokenDefaults
{
    public const string AuthenticationScheme = "ApiToken";
    public const string HeaderName = "API-KEY";
    public const string AlternateHeaderName = "X-API-KEY";
    public const string QueryTokenParameter = "api_token";
    public const string QueryUserParameter = "user_id";
    public const string ExpirationHeader = "Dot-Token-Expiration";

    /// <summary>Longer credentials are refused before any hashing.</summary>
    public const int MaxCredentialLength = Tokens.TokenRules.MaxCredentialLength;
}

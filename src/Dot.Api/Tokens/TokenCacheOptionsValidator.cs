using Microsoft.Extensions.Options;

namespace Dot.Api.Tokens;

/// <summary>
/// Refuses to start with a verified-token cache setting (<see cref="TokenCacheOptions"/>, <c>Dot:Auth</c>) that cannot
/// work, naming it: the cache holds two generations of at least one token, and trusts a token from 0 seconds (every
/// request asks the database) to an hour (how late another instance's revocation may be seen without a notification).
/// </summary>
internal sealed class TokenCacheOptionsValidator : IValidateOptions<TokenCacheOptions>
{
    public const int MinCacheSize = 2;
    public const double MaxCacheSeconds = 3600;

    public ValidateOptionsResult Validate(string? name, TokenCacheOptions options)
    {
        var failures = Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static IEnumerable<string> Check(TokenCacheOptions o)
    {
        if (o.CacheSize < MinCacheSize)
        {
            yield return $"{TokenCacheOptions.Section}:CacheSize must be at least {MinCacheSize} (tokens); it is {o.CacheSize}.";
        }

        if (o.CacheSeconds is not (>= 0 and <= MaxCacheSeconds))
        {
            yield return $"{TokenCacheOptions.Section}:CacheSeconds must be between 0 and {MaxCacheSeconds} (seconds); it is {o.CacheSeconds}.";
        }
    }
}

using Dot.Api.Cli;
using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Dot.Api.Tokens;

public static class TokensExtensions
{
    /// <summary>
    /// Tokens: their settings (<c>Dot:Tokens</c>, with the verified-token cache's), checked at start,
    /// the service, the lookup, the cache and the last-used recorder with its flush.
    /// </summary>
    public static IServiceCollection AddTokens(this IServiceCollection services)
    {
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>();
        services.AddScoped<TokenService>();
        services.AddSingleton<TokenLookup>();
        services.AddSingleton<VerifiedTokenCache>();
        services.AddSingleton<TokenVerifier>();
        services.AddSingleton<INotificationHandler, EvictTokensOnChangeNotice>();
        services.AddSingleton<TokenUsageRecorder>();
        services.AddCliCommands<TokensCli>();
        services.AddPeriodicFlusher<TokenUsageRecorder>(sp => sp.GetRequiredService<IOptions<TokenOptions>>().Value.UsageFlush);
        return services;
    }
}

using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Dot.Api.Tokens;

public static class TokensExtensions
{
    public static IServiceCollection AddTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<TokenOptions>(configuration.GetSection(TokenOptions.Section));
        services.AddScoped<TokenService>();
        services.AddSingleton<TokenLookup>();
        services.Configure<TokenCacheOptions>(configuration.GetSection(TokenCacheOptions.Section));
        services.AddSingleton<VerifiedTokenCache>();
        services.AddSingleton<TokenVerifier>();
        services.AddSingleton<INotificationHandler, EvictTokensOnChangeNotice>();
        services.AddSingleton<TokenUsageRecorder>();
        TokensCli.Register();
        services.AddPeriodicFlusher<TokenUsageRecorder>(sp => TimeSpan.FromSeconds(Math.Clamp(
            sp.GetRequiredService<IOptions<TokenOptions>>().Value.UsageFlushSeconds, 1, 60)));
        return services;
    }
}

using Dot.Api.Authentication;

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
        services.AddSingleton<TokenUsageRecorder>();
        services.AddHostedService<TokenUsageFlusher>();
        return services;
    }
}

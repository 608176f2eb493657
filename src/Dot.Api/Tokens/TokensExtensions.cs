namespace Dot.Api.Tokens;

public static class TokensExtensions
{
    public static IServiceCollection AddTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<TokenOptions>(configuration.GetSection(TokenOptions.Section));
        services.AddScoped<TokenService>();
        services.AddSingleton<TokenLookup>();
        services.AddSingleton<TokenUsageRecorder>();
        services.AddHostedService<TokenUsageFlusher>();
        return services;
    }
}

namespace Dot.Api.Assets;

public static class AssetsExtensions
{
    public static IServiceCollection AddAssets(this IServiceCollection services)
    {
        services.AddScoped<AssetService>();
        return services;
    }
}

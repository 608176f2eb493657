namespace Dot.Api.History;

public static class HistoryExtensions
{
    public static IServiceCollection AddHistory(this IServiceCollection services)
    {
        services.AddScoped<ChatService>();
        services.AddScoped<HistoryExporter>();
        return services;
    }
}

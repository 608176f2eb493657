using Dot.Api.Sync;

namespace Dot.Api.Connectors;

public static class ConnectorsExtensions
{
    /// <summary>The connectors this server has: <c>postgres</c>. Runs of other types fail, saying there is none.</summary>
    public static IServiceCollection AddConnectors(this IServiceCollection services)
    {
        services.AddSingleton<ISyncConnector, PostgresConnector>();
        return services;
    }
}

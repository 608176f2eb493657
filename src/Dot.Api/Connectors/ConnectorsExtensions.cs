using System.Net;
using Dot.Api.Sync;

namespace Dot.Api.Connectors;

public static class ConnectorsExtensions
{
    /// <summary>The connectors this server has: <c>postgres</c> and <c>dbt</c>. Runs of other types fail, saying there is none.</summary>
    public static IServiceCollection AddConnectors(this IServiceCollection services)
    {
        services.AddSingleton<ISyncConnector, PostgresConnector>();
        services.AddSingleton<ISyncConnector, DbtConnector>();

        // No logging handlers: they would write the manifest URL, and at Trace the request headers, to the logs.
        services.AddHttpClient(DbtConnector.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AutomaticDecompression = DecompressionMethods.All,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .RemoveAllLoggers();
        return services;
    }
}

using System.Net;
using Dot.Api.Connections;
using Dot.Api.Sync;
using Microsoft.Extensions.Options;

namespace Dot.Api.Connectors;

public static class ConnectorsExtensions
{
    /// <summary>
    /// The one HTTP client every HTTP connector uses (<c>IHttpClientFactory.CreateClient(HttpClientName)</c>): it connects
    /// only to addresses <see cref="ConnectorNetwork"/> has checked, follows no redirect, uses no proxy and logs nothing.
    /// Its timeout is infinite: each connector sets its own deadline with a cancellation token.
    /// </summary>
    public const string HttpClientName = "dot-connectors";

    /// <summary>
    /// The connectors this server has: <c>postgres</c>, <c>dbt</c>, <c>snowflake</c> (SQL API, key-pair JWT) and
    /// <c>bigquery</c> (REST API v2, service-account key), and their settings (<c>Dot:Connectors</c>, checked
    /// at start). Runs of other types fail, saying there is none.
    /// </summary>
    public static IServiceCollection AddConnectors(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ConnectorOptions>()
            .Bind(configuration.GetSection(ConnectorOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConnectorOptions>, ConnectorOptionsValidator>();
        services.AddSingleton<IConnectorDns, SystemConnectorDns>();
        services.AddSingleton<ConnectorNetwork>();
        services.AddSingleton<IConnectionSettingsRule, DbtSettingsRule>();
        services.AddSingleton<ISyncConnector, PostgresConnector>();
        services.AddSingleton<ISyncConnector, DbtConnector>();
        services.AddSingleton<ISyncConnector, SnowflakeConnector>();
        services.AddSingleton<ISyncConnector, BigQueryConnector>();

        // No logging handlers: they would write request URLs (a dbt manifest's), and at Trace the request headers, to the logs.
        // No redirects (a 3xx fails the run) and no proxy: every connection is made here, to an address
        // ConnectorNetwork has checked (a proxy would resolve and connect where this server cannot see).
        services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                ConnectCallback = sp.GetRequiredService<ConnectorNetwork>().ConnectAsync,
                AutomaticDecompression = DecompressionMethods.All,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .RemoveAllLoggers();
        return services;
    }
}

/// <summary>A dbt connection may name a file on the server only where <c>Dot:Connectors:AllowManifestPath</c> is true.</summary>
internal sealed class DbtSettingsRule(IOptions<ConnectorOptions> options) : IConnectionSettingsRule
{
    public void Check(ConnectionDraft draft, Infrastructure.FieldErrors errors)
    {
        if (draft.Type == "dbt" && draft.Settings.ContainsKey("manifest_path") && !options.Value.AllowManifestPath)
        {
            errors.Add("settings.manifest_path", DbtConnector.ManifestPathDisabled);
        }
    }
}

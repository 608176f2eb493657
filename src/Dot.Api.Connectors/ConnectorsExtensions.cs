using System.Net;
using System.Text.Json;
using Dot.Api.Validation;
using Microsoft.Extensions.DependencyInjection;
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
    /// The connectors this server has, one for each connection type: <c>postgres</c>, <c>redshift</c> (Npgsql, sharing the
    /// postgres connector's session code), <c>mssql</c> (Microsoft.Data.SqlClient), <c>snowflake</c> (SQL API, key-pair
    /// JWT), <c>bigquery</c> (REST API v2, service-account key), <c>databricks</c> (Unity Catalog REST API), <c>looker</c>
    /// (Looker API 4.0: LookML explores into the catalogue, dashboards and Looks as external assets) and <c>dbt</c>, and
    /// their settings (<c>Dot:Connectors</c>, checked at start).
    /// </summary>
    public static IServiceCollection AddConnectors(this IServiceCollection services)
    {
        services.AddOptions<ConnectorOptions>()
            .BindConfiguration(ConnectorOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConnectorOptions>, ConnectorOptionsValidator>();
        services.AddSingleton<IConnectorDns, SystemConnectorDns>();
        services.AddSingleton<ConnectorNetwork>();
        services.AddSingleton<IConnectionSettingsRule, DbtSettingsRule>();
        services.AddSingleton<ISyncConnector, PostgresConnector>();
        services.AddSingleton<ISyncConnector, RedshiftConnector>();
        services.AddSingleton<ISyncConnector, MssqlConnector>();
        services.AddSingleton<ISyncConnector, DbtConnector>();
        services.AddSingleton<ISyncConnector, SnowflakeConnector>();
        services.AddSingleton<ISyncConnector, BigQueryConnector>();
        services.AddSingleton<ISyncConnector, DatabricksConnector>();
        services.AddSingleton<ISyncConnector, LookerConnector>();

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

/// <summary>
/// A dbt connection may name a file on the server only where <c>Dot:Connectors:AllowManifestPath</c> is true; its
/// account_id and job_id need cloud_url (dbt Cloud's account-specific access URL); and neither cloud_url nor manifest_url
/// may name one of dbt Cloud's retired region hosts (<see cref="DbtConnector.RetiredCloudHosts"/>).
/// </summary>
internal sealed class DbtSettingsRule(IOptions<ConnectorOptions> options) : IConnectionSettingsRule
{
    public void Check(string type, IReadOnlyDictionary<string, JsonElement> settings, FieldErrors errors)
    {
        if (type != "dbt")
        {
            return;
        }

        if (settings.ContainsKey("manifest_path") && !options.Value.AllowManifestPath)
        {
            errors.Add("settings.manifest_path", DbtConnector.ManifestPathDisabled);
        }

        var read = new ConnectorSettings(type, settings);
        if ((read.Text("account_id") is not null || read.Text("job_id") is not null) && read.Text("cloud_url") is null)
        {
            errors.Add("settings.cloud_url", DbtConnector.CloudUrlRequired);
        }

        foreach (var name in (string[])["cloud_url", "manifest_url"])
        {
            if (DbtConnector.RetiredHostProblem(name, read.Text(name)) is { } retired)
            {
                errors.Add($"settings.{name}", retired);
            }
        }
    }
}

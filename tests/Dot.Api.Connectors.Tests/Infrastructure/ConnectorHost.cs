using System.Text.Json;
using Dot.Api.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Dot.Api.Connectors.Tests.Infrastructure;

/// <summary>
/// The connectors as the server composes them (<see cref="ConnectorsExtensions.AddConnectors"/>: the one checked HTTP
/// client, the address rules, <c>Dot:Connectors</c> read from the given settings), with a fake clock and every log line
/// captured at Trace, but without the server: a test builds the <see cref="SyncJob"/> the sync worker would build and
/// calls the connector itself. What the worker adds (the run's row, the secrets' scrubbing, its run timeout, storing the
/// catalogue) is tested through HTTP in tests/Dot.Api.Tests.
/// </summary>
internal sealed class ConnectorHost : IDisposable
{
    /// <summary>How long a test waits for a connector at most: the run's own deadlines are shorter, so this only ends a hang.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly JsonSerializerOptions CatalogJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly ServiceProvider _services;

    /// <param name="settings"><c>Dot:Connectors:…</c> keys, as the server's configuration would hold them.</param>
    /// <param name="dns">The resolver the address rules ask, in place of the system's.</param>
    public ConnectorHost(IReadOnlyDictionary<string, string?>? settings = null, IConnectorDns? dns = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs));
        services.AddSingleton<TimeProvider>(Time);
        services.AddConnectors();
        if (dns is not null)
        {
            services.AddSingleton(dns);
        }

        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    /// <summary>The clock of the connectors (JWT issue times); the fakes check expiries against it.</summary>
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero));

    public CapturedLogs Logs { get; } = new();

    /// <summary>The connector of a type, as the worker picks it (the last registered).</summary>
    public ISyncConnector Connector(string type) => _services.GetServices<ISyncConnector>().Last(c => c.Type == type);

    /// <summary>A settings rule as the server runs it at creation.</summary>
    public IEnumerable<IConnectionSettingsRule> SettingsRules => _services.GetServices<IConnectionSettingsRule>();

    /// <summary>
    /// The job the worker would hand over for a connection <paramref name="type"/>/<paramref name="id"/>:
    /// <paramref name="settings"/> and <paramref name="secrets"/> are any object serializing to a JSON object
    /// (an anonymous object, a dictionary, a <see cref="JsonElement"/>), secrets' values strings.
    /// </summary>
    public static SyncJob Job(string type, object? settings = null, object? secrets = null, string id = "test")
    {
        var settingValues = settings is null
            ? []
            : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.SerializeToElement(settings))!;
        var secretValues = secrets is null
            ? []
            : JsonSerializer.Deserialize<Dictionary<string, string>>(JsonSerializer.SerializeToElement(secrets))!;
        return new SyncJob(Guid.CreateVersion7(), type, id, id, settingValues, new ConnectionSecretValues(secretValues));
    }

    /// <summary>Runs the connector on a job it must read without failing.</summary>
    public async Task<SyncOutcome> SyncAsync(string type, object? settings = null, object? secrets = null, string id = "test")
    {
        using var bound = new CancellationTokenSource(Bound);
        return await Connector(type).RunAsync(Job(type, settings, secrets, id), bound.Token);
    }

    /// <summary>
    /// Runs the connector on a job it must fail, and returns its <see cref="SyncFailedException"/>'s message: the run's
    /// error as the connector gives it, before the worker removes the connection's secret values from it
    /// (<see cref="ConnectionSecretValues.Scrub"/>), which the tests check the connector does not need, unless they say so.
    /// </summary>
    public Task<string> FailAsync(string type, object? settings = null, object? secrets = null, string id = "test")
        => FailAsync(Job(type, settings, secrets, id));

    /// <inheritdoc cref="FailAsync(string, object?, object?, string)"/>
    public async Task<string> FailAsync(SyncJob job)
    {
        using var bound = new CancellationTokenSource(Bound);
        var failure = await Assert.ThrowsAsync<SyncFailedException>(() => Connector(job.ConnectionType).RunAsync(job, bound.Token));
        return failure.Message;
    }

    /// <summary>Runs the connector on a job that may succeed or fail: the outcome, or the failure's message.</summary>
    public async Task<(SyncOutcome? Outcome, string? Error)> RunAsync(string type, object? settings = null, object? secrets = null)
    {
        using var bound = new CancellationTokenSource(Bound);
        try
        {
            return (await Connector(type).RunAsync(Job(type, settings, secrets), bound.Token), null);
        }
        catch (SyncFailedException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>None of <paramref name="secrets"/> shows in the run's error or anywhere in the log.</summary>
    public void AssertNoSecret(string error, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, error, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, Logs.AllText, StringComparison.Ordinal);
        }
    }

    /// <summary>The catalogue as the catalogue endpoint answers it (snake_case, nulls written), to read as the HTTP tests did.</summary>
    public static JsonElement Json(CatalogSnapshot? catalog)
    {
        Assert.NotNull(catalog);
        return JsonSerializer.SerializeToElement(catalog, CatalogJson);
    }

    public void Dispose() => _services.Dispose();
}

using System.Net;
using System.Reflection;
using Dot.Api.Audit;
using Dot.Api.Connectors;
using Dot.Api.Infrastructure;
using Dot.Api.Sessions;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dot.Api.Tests;

/// <summary>
/// Every settings class is bound from its section and checked at start: a value that cannot work stops the start
/// with a sentence naming the key (never a silent clamp); a value that can work starts, and is the value used.
/// </summary>
[Trait("Store", "any")] // settings checked at start, before the store is used
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Dot:Tokens:UsageFlushSeconds", "0", "Dot:Tokens:UsageFlushSeconds must be between 1 and 60 (seconds); it is 0.")]
    [InlineData("Dot:Tokens:UsageFlushSeconds", "61", "Dot:Tokens:UsageFlushSeconds must be between 1 and 60 (seconds); it is 61.")]
    [InlineData("Dot:Tokens:MaxLifetimeDays", "0", "Dot:Tokens:MaxLifetimeDays must be between 1 and 3650 (days) when set; it is 0.")]
    [InlineData("Dot:Tokens:MaxLifetimeDays", "3651", "Dot:Tokens:MaxLifetimeDays must be between 1 and 3650 (days) when set; it is 3651.")]
    [InlineData("Dot:Tokens:CacheSize", "1", "Dot:Tokens:CacheSize must be at least 2 (tokens); it is 1.")]
    [InlineData("Dot:Tokens:CacheSeconds", "-1", "Dot:Tokens:CacheSeconds must be between 0 and 3600 (seconds); it is -1.")]
    [InlineData("Dot:Tokens:CacheSeconds", "3601", "Dot:Tokens:CacheSeconds must be between 0 and 3600 (seconds); it is 3601.")]
    [InlineData("Dot:Audit:FlushSeconds", "0", "Dot:Audit:FlushSeconds must be between 1 and 60 (seconds); it is 0.")]
    [InlineData("Dot:Audit:FlushSeconds", "61", "Dot:Audit:FlushSeconds must be between 1 and 60 (seconds); it is 61.")]
    [InlineData("Dot:Limits:MaxRequestBodyBytes", "0", "Dot:Limits:MaxRequestBodyBytes must be at least 1 (bytes); it is 0.")]
    [InlineData("Dot:Limits:MaxQueryStringLength", "0", "Dot:Limits:MaxQueryStringLength must be at least 1 (characters); it is 0.")]
    [InlineData("Dot:Setup:Key", "   ", "Dot:Setup:Key must hold more than white space when set")]
    [InlineData("Dot:Auth:MaxFailuresPerMinute", "0", "Dot:Auth:MaxFailuresPerMinute must be at least 1; it is 0.")]
    [InlineData("Dot:Auth:MaxTrackedAddresses", "9", "Dot:Auth:MaxTrackedAddresses must be at least 10; it is 9.")]
    [InlineData("Dot:Auth:CacheSeconds", "30", "Dot:Auth:CacheSeconds is no longer read: the setting is Dot:Tokens:CacheSeconds.")]
    [InlineData("Dot:Auth:CacheSize", "10", "Dot:Auth:CacheSize is no longer read: the setting is Dot:Tokens:CacheSize.")]
    [InlineData("Dot:Connectors:AllowedHosts:0", "https://cloud.getdbt.com/", "Dot:Connectors:AllowedHosts:0 must be a host name, a pattern such as *.getdbt.com, an IP address or a CIDR range.")]
    public async Task ABadSettingStopsTheStartNamingTheKey(string key, string value, string sentence)
    {
        await using var factory = new DotApiFactory().WithSetting(key, value);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        var invalid = Assert.Single(Chain(error).OfType<OptionsValidationException>());
        Assert.Contains(invalid.Failures, f => f.StartsWith(sentence, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASettingThatIsNoNumberStopsTheStartNamingTheKey()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Tokens:UsageFlushSeconds", "soon");

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("'Dot:Tokens:UsageFlushSeconds'", error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Every settings class (a <c>Section</c> constant, in the server or in the connectors' library) has a validator, and
    /// is checked when the server starts rather than when first read. The second half reads the framework's list of start-up checks (its StartupValidatorOptions,
    /// not a public type): if that ever moves, this test fails, it does not pass silently.
    /// </summary>
    [Fact]
    public async Task EverySettingsClassIsValidatedAtStart()
    {
        await using var factory = new DotApiFactory();
        using var client = factory.CreateClient();
        var settings = typeof(TokenOptions).Assembly.GetTypes().Concat(typeof(ConnectorOptions).Assembly.GetTypes())
            .Where(t => t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true })
            .ToList();
        Assert.Contains(typeof(TokenOptions), settings);
        Assert.Contains(typeof(ConnectorOptions), settings);

        var startup = Type.GetType("Microsoft.Extensions.Options.StartupValidatorOptions, Microsoft.Extensions.Options", throwOnError: true)!;
        var options = factory.Services.GetRequiredService(typeof(IOptions<>).MakeGenericType(startup));
        var value = options.GetType().GetProperty("Value")!.GetValue(options)!;
        var checkedAtStart = ((System.Collections.IDictionary)startup.GetProperty("_validators", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)!
            .GetValue(value)!).Keys.Cast<ValueTuple<Type, string>>().Select(k => k.Item1).ToHashSet();

        foreach (var type in settings)
        {
            Assert.True(factory.Services.GetServices(typeof(IValidateOptions<>).MakeGenericType(type)).Any(), $"{type.Name} has no validator");
            Assert.True(checkedAtStart.Contains(type), $"{type.Name} is not validated at start");
        }
    }

    [Fact]
    public async Task GoodSettingsStartAndAreTheOnesUsed()
    {
        await using var factory = new DotApiFactory()
            .WithSetting("Dot:Tokens:UsageFlushSeconds", "1")
            .WithSetting("Dot:Tokens:MaxLifetimeDays", "3650")
            .WithSetting("Dot:Tokens:CacheSize", "2")
            .WithSetting("Dot:Tokens:CacheSeconds", "0")
            .WithSetting("Dot:Audit:FlushSeconds", "60")
            .WithSetting("Dot:Limits:MaxQueryStringLength", "4096")
            .WithSetting("Dot:Setup:Key", "a-setup-key");

        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live")).StatusCode);

        var services = factory.Services;
        var tokens = services.GetRequiredService<IOptions<TokenOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(1), tokens.UsageFlush);
        Assert.Equal(3650, tokens.MaxLifetimeDays);
        Assert.Equal((2, 0d), (tokens.CacheSize, tokens.CacheSeconds));
        Assert.Equal(TimeSpan.FromSeconds(60), services.GetRequiredService<IOptions<AuditOptions>>().Value.Flush);
        Assert.Equal(4096, services.GetRequiredService<IOptions<RequestLimitOptions>>().Value.MaxQueryStringLength);
        Assert.True(services.GetRequiredService<IOptions<SetupOptions>>().Value.KeyRequired);
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }

                yield break;
            }
        }
    }
}

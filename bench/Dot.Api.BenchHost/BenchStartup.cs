using Dot.Api.BenchHost;
using Dot.Api.Infrastructure;
using Microsoft.IdentityModel.Tokens;

[assembly: HostingStartup(typeof(BenchStartup))]

namespace Dot.Api.BenchHost;

/// <summary>
/// What the benchmark adds to the product as shipped: throttling off (the miss-path rows send
/// thousands of refused tokens a second on purpose), logging at Warning, the JwtBearer comparator
/// scheme, and the /bench routes (<see cref="BenchEndpoints"/>).
/// </summary>
internal sealed class BenchStartup : IHostingStartup
{
    public static readonly Dictionary<string, string?> Settings = new(StringComparer.Ordinal)
    {
        ["Dot:Auth:ThrottleEnabled"] = "false",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
    };

    public void Configure(IWebHostBuilder builder)
    {
        AllocationSampler.StartIfEnabled();

        // Added last, so these win over appsettings.json and the environment.
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(Settings));
        builder.ConfigureServices(services =>
        {
            if (Environment.GetEnvironmentVariable(PipelineRun.EnvironmentVariable) == "1")
            {
                // `pipeline`: the application's pipeline is called in memory (PipelineRun).
                services.AddSingleton<PipelineRun.Capture>();
                services.AddSingleton<IStartupFilter>(sp => sp.GetRequiredService<PipelineRun.Capture>());
                services.AddHostedService<PipelineRun.Runner>();
            }

            services.AddSingleton<IEndpointContributor, BenchEndpoints>();
            services.AddAuthentication().AddJwtBearer(BenchJwt.Scheme, o =>
            {
                o.MapInboundClaims = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = BenchJwt.Issuer,
                    ValidAudience = BenchJwt.Audience,
                    IssuerSigningKey = BenchJwt.Key,
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    NameClaimType = "name",
                    RoleClaimType = "role",
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
            });
        });
    }
}

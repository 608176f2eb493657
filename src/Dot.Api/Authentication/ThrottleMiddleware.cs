using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Dot.Api.Authentication;

/// <summary>
/// Answers 429 with <c>Retry-After</c> to a throttled address before any credential of it is
/// looked at, so a correct guess does not get through while throttled (API.md §7).
/// </summary>
internal sealed class ThrottleMiddleware(RequestDelegate next, FailureThrottle throttle, IOptionsMonitor<ApiTokenOptions> tokenOptions)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!throttle.Enabled
            || !ApiTokenCredential.Read(context.Request, tokenOptions.Get(ApiTokenDefaults.AuthenticationScheme)).IsPresent
            || throttle.RetryAfterSeconds(context.Connection.RemoteIpAddress) is not { } retryAfter)
        {
            return next(context);
        }

        context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many failed authentications.",
            $"Too many refused credentials from this address; try again in {retryAfter} seconds.", "throttled");
    }
}

public static class ThrottleExtensions
{
    public static IServiceCollection AddAuthenticationThrottle(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ThrottleOptions>().Bind(configuration.GetSection(ThrottleOptions.Section))
            .Validate(o => o.MaxFailuresPerMinute >= 1 && o.FailureWindowSeconds >= 1 && o.MaxTrackedAddresses >= 10,
                "Dot:Auth: MaxFailuresPerMinute and FailureWindowSeconds must be at least 1, MaxTrackedAddresses at least 10.")
            .ValidateOnStart();
        services.AddSingleton<FailureThrottle>();
        if (DataExtensions.Provider(configuration) == DatabaseProvider.Postgres)
        {
            // One budget for every instance on the database: counts go out and come in on a notification channel.
            services.AddSingleton<FailureSharing>();
            services.AddHostedService(sp => sp.GetRequiredService<FailureSharing>());
            services.AddSingleton<INotificationHandler>(sp => sp.GetRequiredService<FailureSharing>());
        }

        return services;
    }

    public static IApplicationBuilder UseAuthenticationThrottle(this IApplicationBuilder app)
        => app.UseMiddleware<ThrottleMiddleware>();
}

using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dot.Api.Authentication;

public static class ApiTokenExtensions
{
    public static AuthenticationBuilder AddApiToken(this AuthenticationBuilder builder)
        => builder.AddApiToken(ApiTokenDefaults.AuthenticationScheme, _ => { });

    public static AuthenticationBuilder AddApiToken(this AuthenticationBuilder builder, Action<ApiTokenOptions> configure)
        => builder.AddApiToken(ApiTokenDefaults.AuthenticationScheme, configure);

    /// <summary>The scheme, with this server's event subscribers (<see cref="DotApiTokenEvents"/>) unless <paramref name="configure"/> sets others.</summary>
    public static AuthenticationBuilder AddApiToken(this AuthenticationBuilder builder, string scheme, Action<ApiTokenOptions> configure)
    {
        builder.Services.TryAddSingleton<DotApiTokenEvents>();
        builder.Services.TryAddSingleton<QueryTokenRoutes>();
        return builder.AddScheme<ApiTokenOptions, ApiTokenHandler>(scheme, o =>
        {
            o.EventsType = typeof(DotApiTokenEvents);
            configure(o);
        });
    }
}

using Microsoft.AspNetCore.Authentication;

namespace Dot.Api.Authentication;

public static class ApiTokenExtensions
{
    public static AuthenticationBuilder AddApiToken(this AuthenticationBuilder builder)
        => builder.AddApiToken(ApiTokenDefaults.AuthenticationScheme, _ => { });

    public static AuthenticationBuilder AddApiToken(this AuthenticationBuilder builder, Action<ApiTokenOptions> configure)
        => builder.AddApiToken(ApiTokenDefaults.AuthenticationScheme, configure);

    public static AuthenticationBuilder AddApiToken(this AuthenticationBuilder builder, string scheme, Action<ApiTokenOptions> configure)
        => builder.AddScheme<ApiTokenOptions, ApiTokenHandler>(scheme, configure);
}

using Dot.Api.Authentication;
using Microsoft.AspNetCore.Antiforgery;

namespace Dot.Api.Sessions;

/// <summary>Endpoint metadata: this route needs the anti-forgery token even from an anonymous caller (sign-in, first run).</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = false)]
public sealed class RequireSessionAntiforgeryAttribute : Attribute
{
}

public static class RequireSessionAntiforgeryExtensions
{
    private static readonly RequireSessionAntiforgeryAttribute Metadata = new();

    public static TBuilder RequireSessionAntiforgery<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(Metadata);
}

/// <summary>
/// Cross-site request forgery defence for the session cookie: a state-changing request that the
/// cookie authenticated (or that goes to a route marked <see cref="RequireSessionAntiforgeryAttribute"/>)
/// must carry the anti-forgery token in the <c>X-CSRF-TOKEN</c> header. A request authenticated by an
/// API token is not affected: no browser sends that header on its own.
/// </summary>
internal sealed partial class SessionAntiforgeryMiddleware(RequestDelegate next, IAntiforgery antiforgery,
    ILogger<SessionAntiforgeryMiddleware> logger)
{
    private static readonly AuthFailure Invalid = new("antiforgery_token_invalid",
        $"Missing or invalid anti-forgery token: a request made with the session cookie must send the token from GET /api/session in the {SessionDefaults.AntiforgeryHeaderName} header.",
        StatusCodes.Status403Forbidden);

    public async Task InvokeAsync(HttpContext context)
    {
        var method = context.Request.Method;
        var safe = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);
        if (safe || !(context.User.IsSession() || context.GetEndpoint()?.Metadata.GetMetadata<RequireSessionAntiforgeryAttribute>() is not null))
        {
            await next(context);
            return;
        }

        if (!await antiforgery.IsRequestValidAsync(context))
        {
            Log.Refused(logger, method, context.Request.Path.Value ?? string.Empty);
            await Refusals.WriteAsync(context, Invalid);
            return;
        }

        await next(context);
    }

    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Information, "Anti-forgery token missing or invalid on {Method} {Path}")]
        public static partial void Refused(ILogger logger, string method, string path);
    }
}

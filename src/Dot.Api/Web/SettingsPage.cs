using Microsoft.AspNetCore.Http.HttpResults;

namespace Dot.Api.Web;

/// <summary>
/// The Settings / Users page: static HTML, ES modules and one style sheet from <c>wwwroot/settings</c>,
/// no build step. It signs in with the session cookie and calls the same /api endpoints as any client.
/// </summary>
internal static class SettingsPage
{
    public const string Route = "/settings/users";
    public const string File = "settings/users.html";

    /// <summary>No inline script or style, nothing from another origin, never framed.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    /// <summary>
    /// Serves <c>wwwroot</c>'s files (<c>/settings/*.js|css</c>, <c>/favicon.svg</c>; before authentication: they are
    /// public) with the page's headers, in a branch only a request for a file name enters (a last segment with a dot):
    /// no API route has one, so an API request does not look for a file.
    /// </summary>
    public static WebApplication UseSettingsPageAssets(this WebApplication app)
    {
        app.UseWhen(context => NamesAFile(context.Request.Path), files => files.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = c => AddSecurityHeaders(c.Context.Response),
        }));
        return app;
    }

    /// <summary>Whether the path's last segment has an extension (<c>/settings/users.js</c>, not <c>/api/auth/me</c>).</summary>
    internal static bool NamesAFile(PathString path)
        => path.Value is { } value && value.AsSpan(value.LastIndexOf('/') + 1).Contains('.');

    /// <summary>The page, and <c>GET /</c> sending a newcomer's browser to it (302).</summary>
    public static RouteHandlerBuilder MapSettingsPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", () => TypedResults.Redirect(Route))
            .ExcludeFromDescription()
            .WithName("Home");
        return routes.MapGet(Route, Results<VirtualFileHttpResult, NotFound> (HttpContext context, IWebHostEnvironment environment) =>
            {
                AddSecurityHeaders(context.Response);

                // A server started without its wwwroot (wrong --contentRoot, a bad deployment) answers 404, not a
                // 500 from VirtualFile's FileNotFoundException.
                if (!environment.WebRootFileProvider.GetFileInfo(File).Exists)
                {
                    return TypedResults.NotFound();
                }

                context.Response.Headers.CacheControl = "no-cache";
                return TypedResults.VirtualFile(File, "text/html; charset=utf-8");
            })
            .ExcludeFromDescription()
            .WithName("SettingsUsersPage");
    }

    public static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }
}

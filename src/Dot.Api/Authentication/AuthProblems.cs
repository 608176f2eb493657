using Microsoft.AspNetCore.Mvc;

namespace Dot.Api.Authentication;

/// <summary>
/// The 401 and 403 answers every scheme gives: a problem-details body with a stable <c>reason</c>,
/// so a client sees the same shape whether it sent a token or a session cookie.
/// </summary>
internal static class AuthProblems
{
    public static Task WriteUnauthorizedAsync(HttpContext context, string detail, string reason)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = $"ApiKey realm=\"dot\", header=\"{ApiTokenDefaults.HeaderName}\", error=\"{reason}\"";
        return WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized", detail, reason);
    }

    public static Task WriteInsufficientRoleAsync(HttpContext context)
    {
        var role = context.User.Role().ToString().ToLowerInvariant();
        return WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
            $"Forbidden: the role '{role}' may not call this endpoint.", "insufficient_role");
    }

    public static Task WriteAsync(HttpContext context, int status, string title, string detail, string reason)
    {
        context.Response.StatusCode = status;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        problem.Extensions["reason"] = reason;
        return problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }
}

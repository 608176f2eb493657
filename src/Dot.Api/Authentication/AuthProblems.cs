using System.Buffers;
using Dot.Api.Access;
using Dot.Api.Infrastructure;

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

    /// <summary>A token refusal: the same body as <see cref="WriteUnauthorizedAsync(HttpContext, string, string)"/>, from bytes made once per reason.</summary>
    public static Task WriteUnauthorizedAsync(HttpContext context, AuthFailure failure)
    {
        var response = context.Response;
        response.StatusCode = failure.Status;
        if (failure.Status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = failure.WwwAuthenticate;
        }

        response.ContentType = "application/problem+json";
        var traceId = System.Diagnostics.Activity.Current?.Id ?? context.TraceIdentifier;
        var escapedTraceId = IsPlainAscii(traceId) ? null : System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonEncodedText.Encode(traceId).Value);
        response.ContentLength = failure.BodyPrefix.Length + (escapedTraceId?.Length ?? traceId.Length) + AuthFailure.BodySuffix.Length;

        // Written to the pipe, sent with the headers when the request completes: one write, no flush here.
        var body = response.BodyWriter;
        body.Write(failure.BodyPrefix);
        if (escapedTraceId is null)
        {
            body.Advance(System.Text.Encoding.ASCII.GetBytes(traceId, body.GetSpan(traceId.Length)));
        }
        else
        {
            body.Write(escapedTraceId);
        }

        body.Write(AuthFailure.BodySuffix);
        return Task.CompletedTask;
    }

    /// <summary>Trace ids are W3C ids or connection ids: letters, digits, '-', ':' and '.', nothing to escape.</summary>
    private static bool IsPlainAscii(string text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or ':' or '.' or '|' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    public static Task WriteInsufficientRoleAsync(HttpContext context)
    {
        var role = context.User.Role().ToString().ToLowerInvariant();
        return WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
            $"Forbidden: the role '{role}' may not call this endpoint.", "insufficient_role");
    }

    public static Task WriteAsync(HttpContext context, int status, string title, string detail, string reason)
        => Problems.WriteAsync(context, status, title, detail, reason);
}

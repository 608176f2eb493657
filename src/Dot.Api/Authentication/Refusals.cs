using System.Buffers;

namespace Dot.Api.Authentication;

/// <summary>
/// The one writer of the pipeline's refusals — every 401 and 403 of authentication and authorization, and the
/// throttle's 429: a problem-details body with a stable <c>reason</c> (the fields <c>IProblemDetailsService</c> writes
/// for an endpoint's problems), <c>WWW-Authenticate</c> on a 401, so a client sees the same shape whether it sent a
/// token, a session cookie or nothing.
/// </summary>
internal static class Refusals
{
    /// <summary>
    /// The 401 of a request authorization found anonymous, from what authentication decided: why the token was refused,
    /// or that the session ended, or why a URL token was not taken, or that no credential came.
    /// </summary>
    public static AuthFailure Challenge(HttpContext context)
        => context.Features.Get<AuthenticationDecision>() is { Succeeded: false } decision ? decision.Failure : AuthFailure.Missing;

    /// <summary>Writes <paramref name="refusal"/>, from bytes made once per refusal: the status, the challenge of a 401, the body.</summary>
    public static Task WriteAsync(HttpContext context, AuthFailure refusal)
    {
        var response = context.Response;
        response.StatusCode = refusal.Status;
        if (refusal.Status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = refusal.WwwAuthenticate;
        }

        response.ContentType = "application/problem+json";
        var traceId = System.Diagnostics.Activity.Current?.Id ?? context.TraceIdentifier;
        var escapedTraceId = IsPlainAscii(traceId) ? null : System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonEncodedText.Encode(traceId).Value);
        response.ContentLength = refusal.BodyPrefix.Length + (escapedTraceId?.Length ?? traceId.Length) + AuthFailure.BodySuffix.Length;

        // Written to the pipe, sent with the headers when the request completes: one write, no flush here.
        var body = response.BodyWriter;
        body.Write(refusal.BodyPrefix);
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
}

using Dot.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;

namespace Dot.Api.Sync;

/// <summary>
/// 401 <c>invalid_webhook_signature</c> (the token was good, the body's signature was not) or <c>stale_webhook</c> (a
/// signed dbt Cloud delivery whose <c>timestamp</c> is missing, unreadable, too old or too far ahead). Neither is a
/// token refusal: the reason and the challenge (<c>WWW-Authenticate: HMAC-SHA256 …</c>, the scheme of the body, not
/// <c>ApiKey</c>) say so, so a client does not go and replace a token that works.
/// </summary>
public sealed class WebhookProblem(ProblemHttpResult inner, string reason) : StatusProblem(inner), IResult, IEndpointMetadataProvider
{
    public const string InvalidSignature = "invalid_webhook_signature";

    public const string StaleWebhook = "stale_webhook";

    public static WebhookProblem Create()
        => Of(InvalidSignature,
            "The Authorization header must be the lowercase hex HMAC-SHA256 of the raw request body, keyed with the "
            + "connection's webhook_secret (how dbt Cloud signs its webhooks). The API token was accepted.");

    /// <summary>A signed delivery refused for its <c>timestamp</c>: <paramref name="why"/> says how it fails.</summary>
    public static WebhookProblem Stale(string why)
        => Of(StaleWebhook,
            $"The delivery's timestamp {why}: a signed dbt Cloud event must carry its ISO 8601 timestamp, no older than "
            + $"{WebhookOptions.Section}:ReplayWindowHours and no more than {WebhookOptions.MaxAhead.TotalMinutes} minutes ahead, "
            + "so that a captured delivery cannot be replayed. The API token and the signature were accepted.");

    private static WebhookProblem Of(string reason, string detail)
        => new(TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            extensions: new Dictionary<string, object?> { ["reason"] = reason }), reason);

    Task IResult.ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers.WWWAuthenticate = $"HMAC-SHA256 realm=\"dot\", header=\"Authorization\", error=\"{reason}\"";
        return ExecuteAsync(httpContext);
    }

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
        => Declare(builder, StatusCodes.Status401Unauthorized, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails));
}

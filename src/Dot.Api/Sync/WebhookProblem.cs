using Dot.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;

namespace Dot.Api.Sync;

/// <summary>
/// 401 <c>invalid_webhook_signature</c>: the token was good, the body's signature was not. It is not a token refusal:
/// its reason and its challenge (<c>WWW-Authenticate: HMAC-SHA256 …</c>, the scheme of the body, not <c>ApiKey</c>)
/// say so, so a client does not go and replace a token that works.
/// </summary>
public sealed class WebhookProblem(ProblemHttpResult inner) : StatusProblem(inner), IResult, IEndpointMetadataProvider
{
    public const string InvalidSignature = "invalid_webhook_signature";

    private const string Challenge = $"HMAC-SHA256 realm=\"dot\", header=\"Authorization\", error=\"{InvalidSignature}\"";

    public static WebhookProblem Create()
        => new(TypedResults.Problem(
            "The Authorization header must be the lowercase hex HMAC-SHA256 of the raw request body, keyed with the "
            + "connection's webhook_secret (how dbt Cloud signs its webhooks). The API token was accepted.",
            statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            extensions: new Dictionary<string, object?> { ["reason"] = InvalidSignature }));

    Task IResult.ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers.WWWAuthenticate = Challenge;
        return ExecuteAsync(httpContext);
    }

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
        => Declare(builder, StatusCodes.Status401Unauthorized, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails));
}

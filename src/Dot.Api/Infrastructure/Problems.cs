using Dot.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Dot.Api.Infrastructure;

/// <summary>Problem-details answers shared by every feature, each typed by its status so OpenAPI lists it.</summary>
public static class Problems
{
    /// <summary>422 with an <c>errors</c> object keyed by the field names the client sent.</summary>
    public static InvalidProblem Validation(IDictionary<string, string[]> errors)
        => new(TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = "One or more fields are invalid.",
        }));

    public static InvalidProblem Validation(string field, string message)
        => Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>422 with the collected field errors (<see cref="FieldErrors"/>), keyed as the client sent them.</summary>
    public static InvalidProblem ToProblem(this FieldErrors errors) => Validation(errors.ToDictionary());

    public static NotFoundProblem NotFound(string detail)
        => new(TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found"));

    public static ConflictProblem Conflict(string detail)
        => new(TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict"));

    public static ForbiddenProblem Forbidden(string detail, string? reason = null)
        => new(TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
            extensions: reason is null ? null : new Dictionary<string, object?> { ["reason"] = reason }));

    /// <summary>A refusal of the web sign-in or setup: 401, 403 or 429, with its stable <c>reason</c>.</summary>
    public static RefusalProblem Refusal(int status, string detail, string reason)
        => new(TypedResults.Problem(detail, statusCode: status, title: Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
            extensions: new Dictionary<string, object?> { ["reason"] = reason }));

    public static TooLargeProblem TooLarge(string detail)
        => new(TypedResults.Problem(detail, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large."));

    public static UnavailableProblem Unavailable(string detail)
        => new(TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable"));

    /// <summary>
    /// Writes a problem-details answer from middleware, where no endpoint returns a result (limits, throttling,
    /// authentication challenges): the one writer, through <see cref="IProblemDetailsService"/> as endpoints' answers go.
    /// </summary>
    public static Task WriteAsync(HttpContext context, int status, string title, string detail, string? reason = null)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (reason is not null)
        {
            problem.Extensions["reason"] = reason;
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        return problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }
}

/// <summary>
/// A problem-details answer whose status its type declares: a handler returning <c>Results&lt;Ok&lt;T&gt;, NotFoundProblem&gt;</c>
/// tells OpenAPI it may answer 404 with <c>application/problem+json</c>, where a bare <see cref="ProblemHttpResult"/>
/// declares nothing. The body is written by <see cref="ProblemHttpResult"/>, so it is the same problem details either way.
/// </summary>
public abstract class StatusProblem(ProblemHttpResult inner) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<ProblemDetails>, IContentTypeHttpResult
{
    public ProblemDetails Value => inner.ProblemDetails;

    object? IValueHttpResult.Value => inner.ProblemDetails;

    public int? StatusCode => inner.StatusCode;

    public string? ContentType => inner.ContentType;

    public Task ExecuteAsync(HttpContext httpContext) => inner.ExecuteAsync(httpContext);

    protected static void Declare(EndpointBuilder builder, int status, Type body)
        => builder.Metadata.Add(new ProducesResponseTypeMetadata(status, body, ["application/problem+json"]));
}

/// <summary>422: fields that are wrong, keyed as the client sent them.</summary>
public sealed class InvalidProblem(ProblemHttpResult inner) : StatusProblem(inner), IEndpointMetadataProvider
{
    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
        => Declare(builder, StatusCodes.Status422UnprocessableEntity, typeof(HttpValidationProblemDetails));
}

/// <summary>404.</summary>
public sealed class NotFoundProblem(ProblemHttpResult inner) : StatusProblem(inner), IEndpointMetadataProvider
{
    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
        => Declare(builder, StatusCodes.Status404NotFound, typeof(ProblemDetails));
}

/// <summary>409.</summary>
public sealed class ConflictProblem(ProblemHttpResult inner) : StatusProblem(inner), IEndpointMetadataProvider
{
    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
        => Declare(builder, StatusCodes.Status409Conflict, typeof(ProblemDetails));
}

/// <summary>403 decided by the endpoint (another user's token, a setup from afar), beside the role check's own 403.</summary>
public sealed class ForbiddenProblem(ProblemHttpResult inner) : StatusProblem(inner), IEndpointMetadataProvider
{
    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
        => Declare(builder, StatusCodes.Status403Forbidden, typeof(ProblemDetails));
}

/// <summary>401, 403 or 429 of the web sign-in and first-run setup, each with its <c>reason</c>.</summary>
public sealed class RefusalProblem(ProblemHttpResult inner) : StatusProblem(inner), IEndpointMetadataProvider
{
    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
    {
        Declare(builder, StatusCodes.Status401Unauthorized, typeof(ProblemDetails));
        Declare(builder, StatusCodes.Status403Forbidden, typeof(ProblemDetails));
        Declare(builder, StatusCodes.Status429TooManyRequests, typeof(ProblemDetails));
    }
}

/// <summary>503: a dependency (the database) does not answer.</summary>
public sealed class UnavailableProblem(ProblemHttpResult inner) : StatusProblem(inner), IEndpointMetadataProvider
{
    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
        => Declare(builder, StatusCodes.Status503ServiceUnavailable, typeof(ProblemDetails));
}

/// <summary>413: a body over what the endpoint reads.</summary>
public sealed class TooLargeProblem(ProblemHttpResult inner) : StatusProblem(inner), IEndpointMetadataProvider
{
    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
        => Declare(builder, StatusCodes.Status413PayloadTooLarge, typeof(ProblemDetails));
}

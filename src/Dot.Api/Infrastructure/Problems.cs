using Microsoft.AspNetCore.Http.HttpResults;

namespace Dot.Api.Infrastructure;

/// <summary>Problem-details answers shared by every feature.</summary>
public static class Problems
{
    /// <summary>422 with an <c>errors</c> object keyed by the field names the client sent.</summary>
    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors)
        => TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = "One or more fields are invalid.",
        });

    public static ProblemHttpResult Validation(string field, string message)
        => Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult NotFound(string detail)
        => TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Conflict(string detail)
        => TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ProblemHttpResult Forbidden(string detail)
        => TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    /// <summary>
    /// Writes a problem-details answer from middleware, where no endpoint returns a result (limits, throttling,
    /// authentication challenges): the one writer, through <see cref="IProblemDetailsService"/> as endpoints' answers go.
    /// </summary>
    public static Task WriteAsync(HttpContext context, int status, string title, string detail, string? reason = null)
    {
        context.Response.StatusCode = status;
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail };
        if (reason is not null)
        {
            problem.Extensions["reason"] = reason;
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        return problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }
}

/// <summary>Collects field errors; empty means valid.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public FieldErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
        return this;
    }

    /// <summary>The messages on one line, for the command line.</summary>
    public override string ToString() => string.Join(" ", _errors.Values.SelectMany(v => v));

    public ProblemHttpResult ToProblem()
        => Problems.Validation(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
}

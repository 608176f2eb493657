using System.Diagnostics;
using System.Text.Json;
using Dot.Api.Data;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore.Storage;

namespace Dot.Api.Infrastructure;

/// <summary>
/// Turns exceptions into problem details: a body that is not JSON is 400, a JSON value of the
/// wrong type is 422 keyed by field, an over-large body 413, a database that does not answer (down, restarting,
/// unreachable, out of connections, or SQLite busy past its timeout) 503 with <c>Retry-After</c>, and anything
/// unexpected a bare 500 with a trace id — no stack trace, SQL or request text reaches the client.
/// </summary>
internal sealed partial class ErrorHandler(IProblemDetailsService problems, IStoreProvider store, ILogger<ErrorHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem;
        if (exception is BadHttpRequestException bad)
        {
            problem = FromBadRequest(bad);
        }
        else if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            return true; // the client went away; nobody to answer
        }
        else if (DatabaseUnavailable.Is(exception, store))
        {
            // Not the request's fault nor a bug: the same request succeeds once the database is back.
            Log.DatabaseUnavailable(logger, exception.GetType().FullName ?? "Exception", exception);
            context.Response.Headers.RetryAfter = DatabaseUnavailable.RetryAfterSeconds;
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service unavailable",
                Detail = DatabaseUnavailable.Detail,
            };
        }
        else
        {
            Log.Unhandled(logger, exception.GetType().FullName ?? "Exception", exception);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred.",
            };
        }

        problem.Extensions["trace_id"] = Activity.Current?.Id ?? context.TraceIdentifier;
        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ProblemDetails FromBadRequest(BadHttpRequestException bad)
    {
        if (bad.InnerException is JsonException json)
        {
            var field = FieldName(json.Path);
            if (UnknownField(json) is { } unknown)
            {
                return new HttpValidationProblemDetails(new Dictionary<string, string[]>
                {
                    [unknown] = [$"{unknown} is not a field of this request (fields are snake_case; check the spelling)."],
                })
                {
                    Status = StatusCodes.Status422UnprocessableEntity,
                    Title = "One or more fields are invalid.",
                };
            }

            if (json.Message.StartsWith(Json.NulMessage, StringComparison.Ordinal))
            {
                var name = field ?? "body";
                return new HttpValidationProblemDetails(new Dictionary<string, string[]>
                {
                    [name] = [$"{name} contains a NUL character (\\u0000), which no field accepts."],
                })
                {
                    Status = StatusCodes.Status422UnprocessableEntity,
                    Title = "One or more fields are invalid.",
                };
            }

            if (json.Message.Contains("could not be converted", StringComparison.Ordinal) && field is not null)
            {
                return new HttpValidationProblemDetails(new Dictionary<string, string[]>
                {
                    [field] = [$"{field} has the wrong type."],
                })
                {
                    Status = StatusCodes.Status422UnprocessableEntity,
                    Title = "One or more fields are invalid.",
                };
            }

            return new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request body is not valid JSON.",
                Detail = json.Message.Contains("maximum configured depth", StringComparison.Ordinal)
                    ? "The JSON body is nested too deeply."
                    : "The request body could not be read as JSON.",
            };
        }

        return bad.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => new ProblemDetails
            {
                Status = 413,
                Title = "Request body too large.",
                Detail = "The request body is larger than this server accepts.",
            },
            StatusCodes.Status415UnsupportedMediaType => new ProblemDetails
            {
                Status = 415,
                Title = "Unsupported media type.",
                Detail = "Send the body as application/json.",
            },
            _ => new ProblemDetails
            {
                Status = bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : 400,
                Title = "Bad request.",
                Detail = bad.Message.Contains("no body was provided", StringComparison.Ordinal)
                    ? "A JSON body is required."
                    : "The request could not be read.",
            },
        };
    }

    /// <summary>
    /// The field a body sent that its type does not have, as the client wrote it, with the path to it
    /// (<c>external_asset.viewCount</c>); null for other JSON errors. System.Text.Json names it in its message,
    /// "The JSON property 'x' could not be mapped to any .NET member contained in type 'T'.", and the path to its parent.
    /// </summary>
    private static string? UnknownField(JsonException json)
    {
        const string Start = "The JSON property '";
        var message = json.Message;
        if (!message.StartsWith(Start, StringComparison.Ordinal) || !message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            return null;
        }

        var end = message.IndexOf("' could not be mapped", Start.Length, StringComparison.Ordinal);
        if (end < 0)
        {
            return null;
        }

        var name = message[Start.Length..end];
        var parent = FieldName(json.Path);
        return parent is null || parent == name || parent.EndsWith("." + name, StringComparison.Ordinal) ? parent ?? name : $"{parent}.{name}";
    }

    /// <summary>"$.external_asset.view_count" → "external_asset.view_count".</summary>
    private static string? FieldName(string? path)
        => string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Error, "Unhandled {ExceptionType} while serving a request")]
        public static partial void Unhandled(ILogger logger, string exceptionType, Exception exception);

        [LoggerMessage(21, LogLevel.Warning, "The database did not answer ({ExceptionType}); the request was answered 503")]
        public static partial void DatabaseUnavailable(ILogger logger, string exceptionType, Exception exception);
    }
}

/// <summary>
/// Whether an exception means the database is away for now rather than that the request or the code is wrong: EF
/// Core's retries used up, or what the store's provider says of an exception of the chain
/// (<see cref="IStoreProvider.IsUnavailable"/>: a transient PostgreSQL failure — connection refused or broken, a
/// timeout, the server shutting down or starting up, too many connections — or SQLite still busy after its timeout).
/// Such a request is answered 503 with <c>Retry-After</c>, never 500.
/// </summary>
public static class DatabaseUnavailable
{
    public const string Detail = "The database does not answer; try again shortly.";

    /// <summary>What <c>Retry-After</c> says: a restart of the database usually takes a few seconds.</summary>
    public const string RetryAfterSeconds = "5";

    public static bool Is(Exception exception, IStoreProvider store)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is RetryLimitExceededException)
            {
                return true;
            }

            if (store.IsUnavailable(e) is { } verdict)
            {
                return verdict;
            }
        }

        return false;
    }
}

public static class ErrorHandlingExtensions
{
    public static IServiceCollection AddDotErrorHandling(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<ErrorHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o => Json.Configure(o.SerializerOptions));
        return services;
    }
}

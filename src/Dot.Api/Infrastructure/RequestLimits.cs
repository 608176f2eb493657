using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Dot.Api.Infrastructure;

/// <summary><c>Dot:Limits</c> settings: what a request may carry, checked at start.</summary>
public sealed class RequestLimitOptions
{
    public const string Section = "Dot:Limits";

    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    public int MaxQueryStringLength { get; set; } = 2048;

    internal static IEnumerable<string> Check(RequestLimitOptions o)
    {
        if (o.MaxRequestBodyBytes < 1)
        {
            yield return $"{Section}:MaxRequestBodyBytes must be at least 1 (bytes); it is {o.MaxRequestBodyBytes}.";
        }

        if (o.MaxQueryStringLength < 1)
        {
            yield return $"{Section}:MaxQueryStringLength must be at least 1 (characters); it is {o.MaxQueryStringLength}.";
        }
    }
}

/// <summary>Refuses to start with a <c>Dot:Limits</c> setting that cannot work, naming it.</summary>
internal sealed class RequestLimitOptionsValidator : IValidateOptions<RequestLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RequestLimitOptions options)
    {
        var failures = RequestLimitOptions.Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Refuses what is too big before any endpoint reads it: a declared body over the limit (413), a
/// query string over the limit (414). Bodies without a length are cut at the limit by the server
/// (Kestrel's MaxRequestBodySize, set from the same setting), which also answers 413.
/// </summary>
internal sealed class RequestLimitsMiddleware(RequestDelegate next, IOptions<RequestLimitOptions> options)
{
    private readonly RequestLimitOptions _limits = options.Value;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.QueryString.Value is { } query && query.Length > _limits.MaxQueryStringLength)
        {
            return RefuseAsync(context, StatusCodes.Status414UriTooLong, "Query string too long.",
                $"The query string may be at most {_limits.MaxQueryStringLength} characters.");
        }

        // A NUL character can only arrive percent-encoded; no parameter accepts one (PostgreSQL cannot even compare it).
        if (context.Request.QueryString.Value is { } encoded && encoded.Contains("%00", StringComparison.Ordinal))
        {
            return RefuseAsync(context, StatusCodes.Status400BadRequest, "The query string contains a NUL character.",
                "A parameter's value holds %00, which no parameter accepts.");
        }

        if (context.Request.ContentLength > _limits.MaxRequestBodyBytes)
        {
            return RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large.",
                $"The request body may be at most {_limits.MaxRequestBodyBytes} bytes.");
        }

        // Only where a body may follow (a length, or chunked): Kestrel has the same limit already; the feature is for
        // servers that do not (the tests' in-memory server).
        var mayHaveBody = context.Request.ContentLength is > 0
            || (context.Request.ContentLength is null && context.Request.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.TransferEncoding));
        if (mayHaveBody && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = _limits.MaxRequestBodyBytes;
        }

        return next(context);
    }

    private static Task RefuseAsync(HttpContext context, int status, string title, string detail)
        => Problems.WriteAsync(context, status, title, detail);
}

public static class RequestLimitsExtensions
{
    /// <summary>
    /// The limits (<c>Dot:Limits</c>, checked at start) for the middleware and for Kestrel, which reads the same
    /// validated settings: a body over the limit, and a request line long enough for the longest query string allowed
    /// (never shorter than Kestrel's own 8 KiB).
    /// </summary>
    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RequestLimitOptions>().BindConfiguration(RequestLimitOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RequestLimitOptions>, RequestLimitOptionsValidator>();
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitOptions>>((k, options) =>
        {
            var limits = options.Value;
            k.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            k.Limits.MaxRequestLineSize = Math.Max(DefaultRequestLineBytes, limits.MaxQueryStringLength + 1024);
        });
        return builder;
    }

    /// <summary>Kestrel's default request-line size, kept when the query-string limit needs less.</summary>
    private const int DefaultRequestLineBytes = 8 * 1024;

    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app)
        => app.UseMiddleware<RequestLimitsMiddleware>();
}

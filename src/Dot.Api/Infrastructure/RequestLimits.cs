using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Dot.Api.Infrastructure;

/// <summary><c>Dot:Limits</c> settings: what a request may carry.</summary>
public sealed class RequestLimitOptions
{
    public const string Section = "Dot:Limits";

    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    public int MaxQueryStringLength { get; set; } = 2048;
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
    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(RequestLimitOptions.Section);
        builder.Services.Configure<RequestLimitOptions>(section);
        var limits = section.Get<RequestLimitOptions>() ?? new RequestLimitOptions();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            k.Limits.MaxRequestLineSize = Math.Max(8 * 1024, limits.MaxQueryStringLength + 1024);
        });
        return builder;
    }

    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app)
        => app.UseMiddleware<RequestLimitsMiddleware>();
}

using Dot.Api.Authentication;
using Dot.Api.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Dot.Api.Swagger;

internal static class SwaggerExtensions
{
    public const string HeaderScheme = "ApiKeyHeader";
    public const string QueryTokenScheme = "ApiTokenQuery";
    public const string QueryUserScheme = "UserIdQuery";

    public static IServiceCollection AddDotSwagger(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();

        // Schemas from the JSON options the endpoints read and write (snake_case, enums as strings): without this,
        // Swashbuckle describes minimal APIs with MVC's camelCase defaults, and Try it out sends fields the API refuses.
        services.AddTransient<ISerializerDataContractResolver>(sp => new JsonSerializerDataContractResolver(
            sp.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions));
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Dot API",
                Version = "v1",
                Description = "Send your token in the API-KEY header. The sync, import and export endpoints also accept ?user_id=…&api_token=… for webhooks.",
            });
            o.AddSecurityDefinition(HeaderScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiTokenDefaults.HeaderName,
                Description = "Your Dot API token (dot-…).",
            });
            o.AddSecurityDefinition(QueryTokenScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Query,
                Name = ApiTokenDefaults.QueryTokenParameter,
                Description = "The token in the URL, for webhooks. Accepted only on the endpoints that say so; needs user_id too.",
            });
            o.AddSecurityDefinition(QueryUserScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Query,
                Name = ApiTokenDefaults.QueryUserParameter,
                Description = "The token owner's email or user id, beside api_token.",
            });
            o.OperationFilter<ApiTokenOperationFilter>();
            o.OperationFilter<ExampleBodyOperationFilter>();
        });
        return services;
    }

    /// <summary>
    /// The policy of every <c>/swagger</c> response. Swashbuckle 10's <c>index.html</c> has no inline script or
    /// style: it links <c>swagger-ui.css</c> and <c>index.css</c> and loads <c>swagger-ui-bundle.js</c>,
    /// <c>swagger-ui-standalone-preset.js</c> and <c>index.js</c> (into which Swashbuckle writes the UI's
    /// configuration) by <c>src</c>, so scripts need only <c>'self'</c>, with no hash and no <c>'unsafe-eval'</c>.
    /// Swagger UI sets element styles through the CSSOM, which <c>style-src</c> does not govern; the one inline
    /// style it adds is the <c>&lt;style&gt;</c> element inside the top bar's SVG logo (from
    /// <c>swagger-ui-standalone-preset.js</c>), allowed by its hash (<see cref="LogoStyleHash"/>) rather than by
    /// <c>'unsafe-inline'</c>. Its style sheet draws icons from <c>data:</c> images; it fetches the document and
    /// sends Try it out requests to this origin only.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' '" + LogoStyleHash + "'; img-src 'self' data:; "
        + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>
    /// SHA-256 of <c>.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}</c>, the logo's
    /// <c>&lt;style&gt;</c> in Swashbuckle.AspNetCore.SwaggerUI 10.1.0. Another version may change it: the browser
    /// test <c>AuthorizeThenTryItOutOnAuthMeWorks</c> fails on any CSP refusal and prints the new hash.
    /// </summary>
    public const string LogoStyleHash = "sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w=";

    /// <summary><c>Dot:Swagger:Enabled</c>, true unless set false.</summary>
    public static bool IsEnabled(IConfiguration configuration) => configuration.GetValue("Dot:Swagger:Enabled", true);

    /// <summary>
    /// The document and Swagger UI, in a branch that only requests under <c>/swagger</c> enter: the two Swashbuckle
    /// middlewares match paths (one with a regular expression) and Swagger UI's static files look a file up, which no
    /// other request needs to pay for.
    /// </summary>
    public static WebApplication UseDotSwagger(this WebApplication app)
    {
        if (IsEnabled(app.Configuration))
        {
            app.UseWhen(context => context.Request.Path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase), swagger =>
            {
                swagger.Use((context, next) =>
                {
                    AddSecurityHeaders(context.Response);
                    return next(context);
                });
                swagger.UseSwagger();

                // No EnablePersistAuthorization: Swagger UI would keep the token in localStorage (API.md §8).
                swagger.UseSwaggerUI(o => o.SwaggerEndpoint("/swagger/v1/swagger.json", "Dot API v1"));
            });
        }

        return app;
    }

    private static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }
}

/// <summary>
/// Declares the header scheme on every operation that needs a caller, and the query scheme only where
/// the endpoint carries <see cref="AllowApiTokenInQueryAttribute"/> — the same metadata the handler reads.
/// </summary>
internal sealed class ApiTokenOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        // Who may call, from the metadata the authorization middleware enforces (RequireRole): none, anyone.
        if (!metadata.OfType<Access.RequiredRoleMetadata>().Any())
        {
            return;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(SwaggerExtensions.HeaderScheme, context.Document)] = [],
        });
        if (metadata.OfType<AllowApiTokenInQueryAttribute>().Any())
        {
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(SwaggerExtensions.QueryTokenScheme, context.Document)] = [],
                [new OpenApiSecuritySchemeReference(SwaggerExtensions.QueryUserScheme, context.Document)] = [],
            });
        }

        // The scope a token needs here, from the same metadata the authorization middleware reads (RequireScope).
        var scope = metadata.OfType<Access.RequiredScopeMetadata>().LastOrDefault();
        if (scope is not null)
        {
            var needs = scope.NarrowPattern is { } narrow ? $"{scope.Scope} or {narrow}" : scope.Scope;
            operation.Description = (string.IsNullOrEmpty(operation.Description) ? string.Empty : operation.Description + "\n\n")
                + $"Scope: a scoped token needs `{needs}`.";
            operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            operation.Extensions["x-dot-scope"] = new JsonNodeExtension(System.Text.Json.Nodes.JsonValue.Create(scope.Scope));
            if (scope.NarrowPattern is { } pattern)
            {
                operation.Extensions["x-dot-scope-narrow"] = new JsonNodeExtension(System.Text.Json.Nodes.JsonValue.Create(pattern));
            }
        }

        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing, malformed, unknown, expired or revoked credential (problem details say which)." });
        operation.Responses.TryAdd("403", new OpenApiResponse
        {
            Description = "The caller's role may not call this endpoint (insufficient_role), the token lacks the scope it needs "
                + "(insufficient_scope, naming it in required_scope), or the token is used from outside its allowed_ips (ip_not_allowed).",
        });
    }
}

/// <summary>
/// Puts an endpoint's <see cref="ExampleBodyMetadata"/> into its request body, serialized with the endpoints' own JSON
/// options, so Swagger UI's Try it out starts from a body the endpoint accepts.
/// </summary>
internal sealed class ExampleBodyOperationFilter(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ExampleBodyMetadata>().FirstOrDefault() is not { } example
            || operation.RequestBody?.Content is not { } content)
        {
            return;
        }

        var node = System.Text.Json.JsonSerializer.SerializeToNode(example.Value, example.Value.GetType(), json.Value.SerializerOptions);
        foreach (var media in content.Values)
        {
            media.Example = node?.DeepClone();
        }
    }
}

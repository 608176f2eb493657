using Dot.Api.Authentication;
using Microsoft.AspNetCore.Authorization;
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
        });
        return services;
    }

    public static WebApplication UseDotSwagger(this WebApplication app)
    {
        if (app.Configuration.GetValue("Dot:Swagger:Enabled", true))
        {
            app.UseSwagger();
            app.UseSwaggerUI(o =>
            {
                o.SwaggerEndpoint("/swagger/v1/swagger.json", "Dot API v1");
                o.EnablePersistAuthorization();
            });
        }

        return app;
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
        var anonymous = metadata.OfType<IAllowAnonymous>().Any();
        var authorized = metadata.OfType<IAuthorizeData>().Any();
        if (anonymous || !authorized)
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

        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing, malformed, unknown, expired or revoked credential (problem details say which)." });
        operation.Responses.TryAdd("403", new OpenApiResponse { Description = "The caller's role may not call this endpoint." });
    }
}


namespace Dot.Api.Access;

/// <summary>Authorization policies named after who may call (API.md §1).</summary>
public static class Policies
{
    public const string AnyUser = "any-user";
    public const string Modeler = "modeler";
    public const string Admin = "admin";

    public static IServiceCollection AddDotAuthorization(this IServiceCollection services)
    {
        // Every policy also asks for the scope the endpoint declares (RequireScope): the role and the scopes, judged together.
        services.AddAuthorizationBuilder()
            .AddPolicy(AnyUser, p => p.RequireAuthenticatedUser().AddRequirements(ScopeRequirement.Instance))
            .AddPolicy(Modeler, p => p.RequireRole(Roles.Admin, Roles.Modeler).AddRequirements(ScopeRequirement.Instance))
            .AddPolicy(Admin, p => p.RequireRole(Roles.Admin).AddRequirements(ScopeRequirement.Instance));
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationHandler, ScopeAuthorizationHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, DotAuthorizationResultHandler>();
        return services;
    }
}

using Microsoft.AspNetCore.Authorization;
namespace Dot.Api.Access;

/// <summary>Authorization policies named after who may call (API.md §1).</summary>
public static class Policies
{
    public const string AnyUser = "any-user";
    public const string Modeler = "modeler";
    public const string Admin = "admin";

    public static IServiceCollection AddDotAuthorization(this IServiceCollection services)
    {
        // ASP.NET Core registers these transient, so an authorized request builds each from its request scope. They
        // hold no state, and every authorization handler here is a singleton: one of each serves the process. (Added
        // first, the framework's TryAdd registrations leave them be.)
        services.AddSingleton<IAuthorizationHandlerContextFactory, DefaultAuthorizationHandlerContextFactory>();
        services.AddSingleton<IAuthorizationEvaluator, DefaultAuthorizationEvaluator>();
        services.AddSingleton<IAuthorizationHandlerProvider, DefaultAuthorizationHandlerProvider>();
        services.AddSingleton<IAuthorizationService, DefaultAuthorizationService>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.Policy.IPolicyEvaluator, Microsoft.AspNetCore.Authorization.Policy.PolicyEvaluator>();
        services.AddSingleton<IAuthorizationHandler, Microsoft.AspNetCore.Authorization.Infrastructure.PassThroughAuthorizationHandler>();

        // Every policy also asks for the scope the endpoint declares (RequireScope): the role and the scopes, judged together.
        services.AddAuthorizationBuilder()
            .AddPolicy(AnyUser, p => p.RequireAuthenticatedUser().AddRequirements(ScopeRequirement.Instance))
            .AddPolicy(Modeler, p => p.RequireRole(Roles.Admin, Roles.Modeler).AddRequirements(ScopeRequirement.Instance))
            .AddPolicy(Admin, p => p.RequireRole(Roles.Admin).AddRequirements(ScopeRequirement.Instance));
        services.AddSingleton<IAuthorizationHandler, ScopeAuthorizationHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, DotAuthorizationResultHandler>();
        return services;
    }
}

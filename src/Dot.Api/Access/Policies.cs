
namespace Dot.Api.Access;

/// <summary>Authorization policies named after who may call (API.md §1).</summary>
public static class Policies
{
    public const string AnyUser = "any-user";
    public const string Modeler = "modeler";
    public const string Admin = "admin";

    public static IServiceCollection AddDotAuthorization(this IServiceCollection services)
    {
        services.AddAuthorizationBuilder()
            .AddPolicy(AnyUser, p => p.RequireAuthenticatedUser())
            .AddPolicy(Modeler, p => p.RequireRole(Roles.Admin, Roles.Modeler))
            .AddPolicy(Admin, p => p.RequireRole(Roles.Admin));
        return services;
    }
}

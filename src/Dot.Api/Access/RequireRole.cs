namespace Dot.Api.Access;

/// <summary>
/// Endpoint metadata: the least role that may call this route (API.md §1). With <see cref="RequiredScopeMetadata"/>, the
/// whole access rule of an endpoint, judged by the server's authorization middleware and shown by the OpenAPI
/// document; an endpoint without it is open to anyone. Set on a route group (<c>.RequireRole(Role.Admin)</c>), a route
/// may narrow it; the one nearest the route holds.
/// </summary>
public sealed class RequiredRoleMetadata
{
    private static readonly RequiredRoleMetadata[] OfRole = [new(Role.User), new(Role.Modeler), new(Role.Admin)];

    private RequiredRoleMetadata(Role minimum) => Minimum = minimum;

    /// <summary>The caller's role must be this one or above it (user &lt; modeler &lt; admin).</summary>
    public Role Minimum { get; }

    public static RequiredRoleMetadata Of(Role minimum) => OfRole[(int)minimum];

    /// <summary>Whether <paramref name="role"/> may call an endpoint of this metadata.</summary>
    public bool Allows(Role role) => role >= Minimum;
}

public static class RequireRoleExtensions
{
    /// <summary>Only an authenticated caller whose role is <paramref name="minimum"/> or above may call these routes.</summary>
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, Role minimum)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(RequiredRoleMetadata.Of(minimum));
}

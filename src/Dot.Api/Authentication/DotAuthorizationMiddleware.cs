using Dot.Api.Access;
using Microsoft.AspNetCore.Authorization;

namespace Dot.Api.Authentication;

/// <summary>
/// Authorization: the server's own rule, and only it (docs/adr/0002). An endpoint's rule is its
/// <see cref="RequiredRoleMetadata"/> — the least role that may call it — and its <see cref="RequiredScopeMetadata"/>;
/// an endpoint without a role is open. A caller that authentication left anonymous gets the 401 of what authentication
/// decided (<see cref="Refusals.Challenge"/>), a role too small 403 <c>insufficient_role</c>, a token without the scope
/// 403 <c>insufficient_scope</c> (<see cref="ScopeRule"/>): the role is judged first. When it starts it reads every
/// endpoint and refuses to start if one carries ASP.NET Core's authorization metadata (<c>RequireAuthorization</c>,
/// <c>[Authorize]</c>, <c>AllowAnonymous</c>, a policy or a requirement), which this middleware would not enforce:
/// nothing is judged by two rules, nothing falls silently to another path.
/// </summary>
internal sealed class DotAuthorizationMiddleware
{
    private readonly RequestDelegate _next;

    public DotAuthorizationMiddleware(RequestDelegate next, EndpointDataSource endpoints)
    {
        _next = next;
        RefuseForeignRules(endpoints.Endpoints);
    }

    public Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<RequiredRoleMetadata>() is not { } required)
        {
            return _next(context);
        }

        var user = context.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            return Refusals.WriteAsync(context, Refusals.Challenge(context));
        }

        var role = user.Role();
        if (!required.Allows(role))
        {
            return Refusals.WriteAsync(context, AuthFailure.InsufficientRole(role));
        }

        var judging = ScopeRule.CheckAsync(user, context, metadata.GetMetadata<RequiredScopeMetadata>());
        return judging.IsCompletedSuccessfully ? Decide(context, judging.Result) : DecideAsync(context, judging);
    }

    private Task Decide(HttpContext context, ScopeRefusal? refusal)
        => refusal is null ? _next(context) : Refusals.WriteAsync(context, AuthFailure.InsufficientScope(refusal));

    private async Task DecideAsync(HttpContext context, ValueTask<ScopeRefusal?> judging) => await Decide(context, await judging);

    /// <summary>
    /// Throws when an endpoint carries authorization metadata of the framework's, or a scope without a role (a scope
    /// narrows what an authenticated caller may do; without a role the endpoint is open and the scope would be ignored).
    /// </summary>
    internal static void RefuseForeignRules(IReadOnlyList<Endpoint> endpoints)
    {
        var foreign = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var metadata = endpoint.Metadata;
            var what = metadata.GetMetadata<IAuthorizeData>() is not null ? "RequireAuthorization or [Authorize]"
                : metadata.GetMetadata<IAllowAnonymous>() is not null ? "AllowAnonymous or [AllowAnonymous]"
                : metadata.GetMetadata<AuthorizationPolicy>() is not null ? "an AuthorizationPolicy"
                : metadata.GetMetadata<IAuthorizationRequirementData>() is not null ? "an authorization requirement"
                : metadata.GetMetadata<RequiredScopeMetadata>() is not null && metadata.GetMetadata<RequiredRoleMetadata>() is null ? "a scope without a role"
                : null;
            if (what is not null)
            {
                foreign.Add($"{endpoint.DisplayName}: {what}");
            }
        }

        if (foreign.Count > 0)
        {
            throw new InvalidOperationException(
                "These endpoints carry authorization this server does not enforce; declare access with RequireRole(...) and "
                + "RequireScope(...) (an endpoint without RequireRole is open to anyone):" + Environment.NewLine
                + string.Join(Environment.NewLine, foreign));
        }
    }
}

public static class AuthorizationPipelineExtensions
{
    /// <summary>Authorization (<see cref="DotAuthorizationMiddleware"/>): use it where <c>UseAuthorization</c> would go.</summary>
    public static IApplicationBuilder UseDotAuthorization(this IApplicationBuilder app) => app.UseMiddleware<DotAuthorizationMiddleware>();
}

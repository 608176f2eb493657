using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Dot.Api.Access;

/// <summary>Part of every Dot policy (<see cref="Policies"/>): the caller's token has the scope the endpoint declares.</summary>
public sealed class ScopeRequirement : IAuthorizationRequirement
{
    public static readonly ScopeRequirement Instance = new();

    private ScopeRequirement()
    {
    }
}

/// <summary>
/// The one place scopes are enforced (API.md §2): an unscoped caller (an unscoped token, a web session) passes; a scoped
/// token passes when it holds the endpoint's <see cref="RequiredScopeMetadata"/> scope or the narrower one it allows for
/// this request. An endpoint that declares no scope admits no scoped token at all. A refusal leaves the scope it needed
/// in <see cref="HttpContext.Items"/> for <see cref="DotAuthorizationResultHandler"/>, which answers <c>insufficient_scope</c>
/// only when the role was enough: the role is judged first.
/// </summary>
internal sealed class ScopeAuthorizationHandler : AuthorizationHandler<ScopeRequirement>
{
    internal static readonly object NeededKey = new();

    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        var judging = AllowsAsync(context.User, context.Resource as HttpContext);
        if (judging.IsCompletedSuccessfully ? judging.Result : await judging)
        {
            context.Succeed(requirement);
        }
    }

    /// <summary>
    /// The rule itself, for this handler and for <see cref="DotAuthorizationMiddleware"/>'s own evaluation of a Dot
    /// policy: true when <paramref name="user"/> may call the request's endpoint as far as scopes go; on a refusal the
    /// scope it needed is left in <see cref="NeededKey"/>. Synchronous unless the endpoint resolves a narrower scope.
    /// </summary>
    internal static ValueTask<bool> AllowsAsync(System.Security.Claims.ClaimsPrincipal user, HttpContext? http)
    {
        if (user.Scopes() is not { } granted)
        {
            return ValueTask.FromResult(true);
        }

        if (http?.GetEndpoint()?.Metadata.GetMetadata<RequiredScopeMetadata>() is not { } required)
        {
            return ValueTask.FromResult(Refuse(http, Scopes.All));
        }

        if (Scopes.Allows(granted, required.Scope))
        {
            return ValueTask.FromResult(true);
        }

        return required.Narrow is { } resolve ? NarrowAsync(resolve(http!), granted, http!, required) : ValueTask.FromResult(Refuse(http, required.Scope));
    }

    private static async ValueTask<bool> NarrowAsync(ValueTask<string?> resolving, IReadOnlySet<string> granted, HttpContext http, RequiredScopeMetadata required)
    {
        var narrow = await resolving;
        if (narrow is not null && granted.Contains(narrow))
        {
            return true;
        }

        // A narrow scope read from stored data is not named to a caller it does not cover (API.md §2 lists who may see what).
        return required.HiddenRefusal is { } refusal ? Refuse(http, required.Scope, refusal) : Refuse(http, narrow ?? required.Scope);
    }

    private static bool Refuse(HttpContext? http, string needed, string? detail = null)
    {
        if (http is not null)
        {
            http.Items[NeededKey] = new ScopeRefusal(needed, detail);
        }

        return false;
    }
}

/// <summary>What a refusal for want of a scope answers: the scope in <c>required_scope</c>, and the sentence when it is not the usual one.</summary>
internal sealed record ScopeRefusal(string Needed, string? Detail);

/// <summary>A refusal for want of a scope alone answers 403 <c>insufficient_scope</c>; every other answer is the framework's.</summary>
internal sealed class DotAuthorizationResultHandler(IEnumerable<IAuthorizationRefusals> refusals) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    /// <summary>The scheme's own answer when it can give it without the authentication service (the policy's schemes are then the default ones).</summary>
    private readonly IAuthorizationRefusals? _refusals = refusals.LastOrDefault();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden
            && authorizeResult.AuthorizationFailure is { FailCalled: false } failure
            && failure.FailedRequirements.Any()
            && failure.FailedRequirements.All(r => r is ScopeRequirement)
            && context.Items[ScopeAuthorizationHandler.NeededKey] is ScopeRefusal refusal)
        {
            return WriteInsufficientScopeAsync(context, refusal.Needed, refusal.Detail);
        }

        if (_refusals is not null && policy.AuthenticationSchemes.Count == 0
            && (authorizeResult.Challenged ? _refusals.Challenge(context) : authorizeResult.Forbidden ? _refusals.Forbid(context) : null) is { } answered)
        {
            return answered;
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }

    /// <summary>403 <c>insufficient_scope</c>, with the scope the request needed in <c>required_scope</c> and in the sentence.</summary>
    internal static Task WriteInsufficientScopeAsync(HttpContext context, string needed, string? detail = null)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        detail ??= needed == Scopes.All
            ? "Forbidden: this endpoint takes no scoped token; use a token without scopes."
            : needed.StartsWith(Scopes.Sync + ":", StringComparison.Ordinal)
                ? $"Forbidden: the token lacks the scope '{needed}' (or '{Scopes.Sync}') this endpoint needs."
                : $"Forbidden: the token lacks the scope '{needed}' this endpoint needs.";
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = detail };
        problem.Extensions["reason"] = "insufficient_scope";
        problem.Extensions["required_scope"] = needed;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        return problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }
}

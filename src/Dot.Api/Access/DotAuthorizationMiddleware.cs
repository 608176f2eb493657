using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Dot.Api.Access;

/// <summary>
/// Authorization, in place of ASP.NET Core's <c>UseAuthorization</c>, with the same answers. An endpoint whose policy
/// is made only of what this server's policies are made of (<see cref="Policies"/>: an authenticated user, a role, the
/// scope; no authentication scheme of its own) is judged here, by the rules of the framework's own handlers and by
/// <see cref="ScopeAuthorizationHandler.AllowsAsync"/>, the scope rule itself: no request scope is opened, no handler
/// context, set of pending requirements, enumerators or tasks are built. A refusal goes to the registered
/// <see cref="IAuthorizationMiddlewareResultHandler"/> with the same <see cref="PolicyAuthorizationResult"/> the
/// framework would have made, and is logged under the framework's category with its event ids. Anything else — another
/// requirement, a policy naming schemes, a principal nobody authenticated through the features, or authorization
/// services replaced by the host — goes through the framework's <see cref="AuthorizationMiddleware"/>, unchanged.
/// </summary>
internal sealed partial class DotAuthorizationMiddleware
{
    /// <summary>What <c>AuthorizationMiddleware</c> leaves in <see cref="HttpContext.Items"/>; EndpointMiddleware refuses an endpoint with authorization metadata without it.</summary>
    internal const string InvokedKey = "__AuthorizationMiddlewareWithEndpointInvoked";

    private static readonly object InvokedValue = new();

    private readonly RequestDelegate _next;
    private readonly AuthorizationMiddleware _framework;
    private readonly IAuthorizationPolicyProvider _policies;
    private readonly IAuthorizationMiddlewareResultHandler _results;
    private readonly ILogger _logger;
    private readonly ConditionalWeakTable<Endpoint, Plan> _plans = new();

    /// <summary>False when the host changed how policies are evaluated: then every request goes through the framework.</summary>
    private readonly bool _evaluatesHere;

    public DotAuthorizationMiddleware(RequestDelegate next, IAuthorizationPolicyProvider policies, IServiceProvider services, ILoggerFactory loggers)
    {
        _next = next;
        _framework = new AuthorizationMiddleware(next, policies, services, loggers.CreateLogger<AuthorizationMiddleware>());
        _policies = policies;
        _logger = loggers.CreateLogger(typeof(DefaultAuthorizationService).FullName!);

        // The services the framework would resolve per request, looked at once (in a scope of their own, as some may be
        // scoped): judged here only while they are exactly the ones whose behaviour this class reproduces.
        using var scope = services.CreateScope();
        var resolved = scope.ServiceProvider;
        _results = resolved.GetRequiredService<IAuthorizationMiddlewareResultHandler>();
        _evaluatesHere = policies.AllowsCachingPolicies
            && !(AppContext.TryGetSwitch("Microsoft.AspNetCore.Authorization.SuppressUseHttpContextAsAuthorizationResource", out var endpointAsResource) && endpointAsResource)
            && resolved.GetRequiredService<IPolicyEvaluator>().GetType() == typeof(PolicyEvaluator)
            && resolved.GetRequiredService<IAuthorizationService>().GetType() == typeof(DefaultAuthorizationService)
            && resolved.GetRequiredService<IAuthorizationHandlerProvider>().GetType() == typeof(DefaultAuthorizationHandlerProvider)
            && resolved.GetRequiredService<IAuthorizationHandlerContextFactory>().GetType() == typeof(DefaultAuthorizationHandlerContextFactory)
            && resolved.GetRequiredService<IAuthorizationEvaluator>().GetType() == typeof(DefaultAuthorizationEvaluator)
            && resolved.GetServices<IAuthorizationHandler>().All(h => h is PassThroughAuthorizationHandler or ScopeAuthorizationHandler)
            && ReferenceEquals(services.GetRequiredService<IAuthorizationMiddlewareResultHandler>(), _results);
    }

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || !_evaluatesHere)
        {
            return _framework.Invoke(context);
        }

        return _plans.TryGetValue(endpoint, out var plan) ? Authorize(context, plan) : PlanAndAuthorizeAsync(context, endpoint);
    }

    private async Task PlanAndAuthorizeAsync(HttpContext context, Endpoint endpoint)
    {
        var plan = await Plan.ForAsync(endpoint, _policies);
        _plans.AddOrUpdate(endpoint, plan);
        await Authorize(context, plan);
    }

    private Task Authorize(HttpContext context, Plan plan)
    {
        if (plan.Policy is not { } policy)
        {
            return plan.Here ? NoPolicy(context, plan) : _framework.Invoke(context);
        }

        // PolicyEvaluator.AuthenticateAsync for a policy naming no scheme: authentication's result, as the features hold it.
        var authenticated = context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult;
        if (!plan.Here || (authenticated is null && context.User.Identity?.IsAuthenticated == true))
        {
            // Not ours to judge; or a principal set without authentication's features, which the framework records.
            return _framework.Invoke(context);
        }

        Mark(context, plan);
        if (plan.AllowAnonymous)
        {
            return _next(context);
        }

        var judging = FailedRequirements(context, plan);
        return judging.IsCompletedSuccessfully
            ? Decide(context, policy, authenticated?.Succeeded == true, judging.Result)
            : DecideAsync(context, policy, authenticated?.Succeeded == true, judging);
    }

    private Task NoPolicy(HttpContext context, Plan plan)
    {
        Mark(context, plan);
        return _next(context);
    }

    /// <summary>
    /// The mark AuthorizationMiddleware leaves for EndpointMiddleware, which looks for it only on an endpoint with
    /// <see cref="IAuthorizeData"/> (and nothing else reads it): left there only, so an anonymous route's request opens no item dictionary.
    /// </summary>
    private static void Mark(HttpContext context, Plan plan)
    {
        if (plan.MarksInvoked)
        {
            context.Items[InvokedKey] = InvokedValue;
        }
    }

    private async Task DecideAsync(HttpContext context, AuthorizationPolicy policy, bool authenticated, ValueTask<List<IAuthorizationRequirement>?> judging)
        => await Decide(context, policy, authenticated, await judging);

    /// <summary>DefaultAuthorizationService's verdict and log, then PolicyEvaluator's success, forbid or challenge.</summary>
    private Task Decide(HttpContext context, AuthorizationPolicy policy, bool authenticated, List<IAuthorizationRequirement>? failed)
    {
        if (failed is null)
        {
            Log.Succeeded(_logger);
            return _next(context);
        }

        var failure = AuthorizationFailure.Failed(failed);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.Failed(_logger, "These requirements were not met:" + Environment.NewLine + string.Join(Environment.NewLine, failed));
        }

        var result = authenticated ? PolicyAuthorizationResult.Forbid(failure) : PolicyAuthorizationResult.Challenge();
        return _results.HandleAsync(_next, context, policy, result);
    }

    /// <summary>Every requirement judged, as every handler runs in the framework; null when all are met.</summary>
    private static ValueTask<List<IAuthorizationRequirement>?> FailedRequirements(HttpContext context, Plan plan)
    {
        var user = context.User;
        List<IAuthorizationRequirement>? failed = null;
        var requirements = plan.Requirements;
        for (var i = 0; i < requirements.Length; i++)
        {
            var requirement = requirements[i];
            switch (requirement)
            {
                case DenyAnonymousAuthorizationRequirement when !IsAuthenticated(user):
                case RolesAuthorizationRequirement when !IsInAnyRole(user, plan.Roles[i]!):
                    (failed ??= []).Add(requirement);
                    break;
                case ScopeRequirement:
                    var judging = ScopeAuthorizationHandler.AllowsAsync(user, context);
                    if (!judging.IsCompletedSuccessfully)
                    {
                        return RestAsync(context, plan, i, judging, failed);
                    }

                    if (!judging.Result)
                    {
                        (failed ??= []).Add(requirement);
                    }

                    break;
            }
        }

        return ValueTask.FromResult(failed);
    }

    /// <summary>The rest of <see cref="FailedRequirements"/> once a scope that had to be looked up is known.</summary>
    private static async ValueTask<List<IAuthorizationRequirement>?> RestAsync(HttpContext context, Plan plan, int at,
        ValueTask<bool> judging, List<IAuthorizationRequirement>? failed)
    {
        if (!await judging)
        {
            (failed ??= []).Add(plan.Requirements[at]);
        }

        var rest = await FailedRequirements(context, plan.From(at + 1));
        if (rest is not null)
        {
            (failed ??= []).AddRange(rest);
        }

        return failed;
    }

    /// <summary>DenyAnonymousAuthorizationHandler's rule: some identity of the user is authenticated.</summary>
    private static bool IsAuthenticated(ClaimsPrincipal? user)
    {
        if (user?.Identity is null)
        {
            return false;
        }

        if (user.Identity.IsAuthenticated)
        {
            return true;
        }

        foreach (var identity in user.Identities)
        {
            if (identity.IsAuthenticated)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>RolesAuthorizationRequirement's rule: the user is in one of the roles.</summary>
    private static bool IsInAnyRole(ClaimsPrincipal? user, string[] roles)
    {
        if (user is null)
        {
            return false;
        }

        foreach (var role in roles)
        {
            if (user.IsInRole(role))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// An endpoint's policy, combined once as the framework combines it, and whether this class may judge it: only
    /// DenyAnonymous, Roles and Scope requirements and no scheme of its own.
    /// </summary>
    private sealed class Plan
    {
        private Plan(AuthorizationPolicy? policy, bool here, bool allowAnonymous, IAuthorizationRequirement[] requirements, string[]?[] roles,
            bool marksInvoked)
        {
            MarksInvoked = marksInvoked;
            Policy = policy;
            Here = here;
            AllowAnonymous = allowAnonymous;
            Requirements = requirements;
            Roles = roles;
        }

        public AuthorizationPolicy? Policy { get; }

        /// <summary>Whether the endpoint has <see cref="IAuthorizeData"/>, which EndpointMiddleware checks the mark for.</summary>
        public bool MarksInvoked { get; }

        public bool Here { get; }

        public bool AllowAnonymous { get; }

        public IAuthorizationRequirement[] Requirements { get; }

        /// <summary>For each RolesAuthorizationRequirement, its roles as an array (the requirement's enumerable would box an enumerator).</summary>
        public string[]?[] Roles { get; }

        public Plan From(int start) => new(Policy, Here, AllowAnonymous, Requirements[start..], Roles[start..], MarksInvoked);

        public static async Task<Plan> ForAsync(Endpoint endpoint, IAuthorizationPolicyProvider policies)
        {
            var metadata = endpoint.Metadata;
            if (metadata.GetOrderedMetadata<IAuthorizationRequirementData>().Count > 0)
            {
                return new Plan(null, here: false, allowAnonymous: false, [], [], marksInvoked: true);
            }

            var policy = await AuthorizationPolicy.CombineAsync(policies, metadata.GetOrderedMetadata<IAuthorizeData>(),
                metadata.GetOrderedMetadata<AuthorizationPolicy>());
            var allowAnonymous = metadata.GetMetadata<IAllowAnonymous>() is not null;
            var marks = metadata.GetMetadata<IAuthorizeData>() is not null;
            if (policy is null)
            {
                return new Plan(null, here: true, allowAnonymous, [], [], marks);
            }

            IAuthorizationRequirement[] requirements = [.. policy.Requirements];
            var here = policy.AuthenticationSchemes.Count == 0
                && requirements.All(r => r is DenyAnonymousAuthorizationRequirement or RolesAuthorizationRequirement or ScopeRequirement);
            string[]?[] roles = [.. requirements.Select(r => r is RolesAuthorizationRequirement roles ? roles.AllowedRoles.ToArray() : null)];
            return new Plan(policy, here, allowAnonymous, requirements, roles, marks);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Authorization was successful.", EventName = "UserAuthorizationSucceeded")]
        public static partial void Succeeded(ILogger logger);

        [LoggerMessage(2, LogLevel.Information, "Authorization failed. {Reason}", EventName = "UserAuthorizationFailed")]
        public static partial void Failed(ILogger logger, string reason);
    }
}

public static class AuthorizationPipelineExtensions
{
    /// <summary>Authorization (<see cref="DotAuthorizationMiddleware"/>): use it where <c>UseAuthorization</c> would go.</summary>
    public static IApplicationBuilder UseDotAuthorization(this IApplicationBuilder app)
    {
        // What UseAuthorization sets: without it, WebApplication adds AuthorizationMiddleware itself, after this one.
        app.Properties[AuthorizationMiddlewareSetKey] = true;
        return app.UseMiddleware<DotAuthorizationMiddleware>();
    }

    /// <summary>The key of <c>IApplicationBuilder.Properties</c> that <c>UseAuthorization</c> sets and WebApplication reads.</summary>
    internal const string AuthorizationMiddlewareSetKey = "__AuthorizationMiddlewareSet";
}

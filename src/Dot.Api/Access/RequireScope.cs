namespace Dot.Api.Access;

/// <summary>
/// Endpoint metadata: the scope a token needs on this route (API.md §2), beside the owner's role. Set where the route
/// is mapped (<c>.RequireScope(Scopes.Sync)</c>); read by <see cref="ScopeRule"/> and by the Swagger
/// operation filter, so the behaviour and the docs come from the same place. <see cref="Narrow"/>, when set, names the
/// narrower scope that also suffices for this request (<c>sync:&lt;type&gt;/&lt;id&gt;</c> from the route's values).
/// <see cref="HiddenRefusal"/>, when set, is the refusal's sentence for a narrow scope found in stored data (a run's
/// connection): the refused caller is told neither that scope nor whether the thing exists.
/// </summary>
public sealed class RequiredScopeMetadata(string scope, Func<HttpContext, ValueTask<string?>>? narrow = null, string? narrowPattern = null,
    string? hiddenRefusal = null)
{
    public string Scope { get; } = scope;

    public Func<HttpContext, ValueTask<string?>>? Narrow { get; } = narrow;

    /// <summary>How the narrower scope reads, for the docs: <c>sync:{connection_type}/{connection_id}</c>.</summary>
    public string? NarrowPattern { get; } = narrowPattern;

    /// <summary>The detail of a refusal that must not name the narrow scope; null when that scope comes from the route the caller wrote.</summary>
    public string? HiddenRefusal { get; } = hiddenRefusal;
}

public static class RequireScopeExtensions
{
    /// <summary>A token must have <paramref name="scope"/> (or be unscoped) to call this endpoint.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(new RequiredScopeMetadata(scope));

    /// <summary>
    /// A token must have <see cref="Scopes.Sync"/>, or <c>sync:&lt;type&gt;/&lt;id&gt;</c> for the connection the route names
    /// in <paramref name="typeParameter"/> and <paramref name="idParameter"/>.
    /// </summary>
    public static TBuilder RequireConnectionSyncScope<TBuilder>(this TBuilder builder, string typeParameter, string idParameter)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(new RequiredScopeMetadata(Scopes.Sync,
            context => ValueTask.FromResult(context.GetRouteValue(typeParameter) is string type && context.GetRouteValue(idParameter) is string id
                ? Scopes.SyncOf(type, id)
                : null),
            $"{Scopes.Sync}:{{{typeParameter}}}/{{{idParameter}}}"));

    /// <summary>
    /// As the route-valued overload, with the connection found by <paramref name="resolve"/> (a run's, say). That
    /// connection is the server's data, not the caller's: a refusal answers <c>required_scope: "sync"</c> and
    /// <paramref name="refusal"/>, the same whether the thing belongs to another connection or does not exist.
    /// </summary>
    public static TBuilder RequireConnectionSyncScope<TBuilder>(this TBuilder builder, Func<HttpContext, ValueTask<string?>> resolve, string pattern,
        string refusal)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(new RequiredScopeMetadata(Scopes.Sync, resolve, pattern, refusal));
}

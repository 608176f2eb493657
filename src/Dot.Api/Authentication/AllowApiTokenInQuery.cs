namespace Dot.Api.Authentication;

/// <summary>
/// Endpoint metadata: this route accepts <c>user_id</c> + <c>api_token</c> in the URL.
/// Read by <see cref="ApiTokenHandler"/> and by the Swagger operation filter, so the
/// behaviour and the docs come from the same place.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = false)]
public sealed class AllowApiTokenInQueryAttribute : Attribute
{
}

public static class AllowApiTokenInQueryExtensions
{
    private static readonly AllowApiTokenInQueryAttribute Metadata = new();

    /// <summary>Let this endpoint authenticate a token sent as <c>?user_id=…&amp;api_token=…</c>.</summary>
    public static TBuilder AllowApiTokenInQuery<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(Metadata);
}

namespace Dot.Api.Authentication;

/// <summary>
/// The routes that accept a URL token, read from the endpoints' own <see cref="AllowApiTokenInQueryAttribute"/>
/// metadata once, and the refusal that names them: the message cannot drift from what the routes allow.
/// </summary>
internal sealed class QueryTokenRoutes(EndpointDataSource endpoints)
{
    private AuthFailure? _notAllowed;

    public AuthFailure NotAllowed => _notAllowed ??= new AuthFailure("query_token_not_allowed",
        $"Query token not allowed on this endpoint: api_token in the URL is accepted only on {Describe()}. "
        + "Send the token in the API-KEY header.");

    /// <summary>"POST /api/sync/{connection_type}/{connection_id}, POST /api/… and GET /api/export_history".</summary>
    public string Describe()
    {
        var routes = endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<AllowApiTokenInQueryAttribute>() is not null)
            .Select(e => $"{string.Join('|', e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["ANY"])} /{e.RoutePattern.RawText?.TrimStart('/')}")
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return routes.Count switch
        {
            0 => "no endpoint of this server",
            1 => routes[0],
            _ => string.Join(", ", routes[..^1]) + " and " + routes[^1],
        };
    }
}

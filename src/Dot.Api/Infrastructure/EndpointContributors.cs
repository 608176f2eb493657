namespace Dot.Api.Infrastructure;

/// <summary>
/// Extra endpoints a host configuration adds without touching Program: the test host's probe
/// routes, the benchmark's baseline routes. The product registers none.
/// </summary>
public interface IEndpointContributor
{
    void Map(IEndpointRouteBuilder routes);
}

public static class EndpointContributorExtensions
{
    public static WebApplication MapContributedEndpoints(this WebApplication app)
    {
        foreach (var contributor in app.Services.GetServices<IEndpointContributor>())
        {
            contributor.Map(app);
        }

        return app;
    }
}

using Dot.Api.Cli;
using Dot.Api.Data;
using Microsoft.AspNetCore.DataProtection;

namespace Dot.Api.Connections;

public static class ConnectionsExtensions
{
    /// <summary>
    /// Connections, their encrypted secrets and the <c>connections add</c> command. Data Protection keeps its
    /// key ring in the database, so every instance and the CLI read the secrets any of them wrote.
    /// (Not "AddConnections": ASP.NET Core already has one, for SignalR's connection handlers.)
    /// </summary>
    public static IServiceCollection AddDotConnections(this IServiceCollection services)
    {
        services.AddDataProtection()
            .SetApplicationName("Dot.Api")
            .PersistKeysToDbContext<DotDbContext>();
        services.AddScoped<ConnectionSecrets>();
        services.AddScoped<ConnectionService>();
        services.AddCliCommands<ConnectionsCli>();
        return services;
    }
}

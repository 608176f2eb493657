using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dot.Api.Logging;

public static class LoggingExtensions
{
    /// <summary>Every logger the host hands out, the framework's included, goes through <see cref="RedactingLoggerFactory"/>.</summary>
    public static ILoggingBuilder RedactSecrets(this ILoggingBuilder logging)
    {
        logging.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new RedactingLoggerFactory(new LoggerFactory(
            sp.GetServices<ILoggerProvider>(),
            sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            sp.GetService<IOptions<LoggerFactoryOptions>>(),
            sp.GetService<IExternalScopeProvider>()))));
        return logging;
    }
}

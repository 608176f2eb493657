using System.Net.Sockets;
using System.Text.RegularExpressions;
using Dot.Api.Swagger;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Dot.Api.Web;

/// <summary>
/// Running the server for a person at a terminal: once it listens, one line names the page and Swagger UI at the
/// addresses really bound; a port already taken is one line on stderr and exit 1, not a stack trace and SIGABRT.
/// </summary>
internal static partial class ServerStart
{
    /// <summary>The host's own category: it logs "Hosting failed to start" with the whole trace before rethrowing.</summary>
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <summary>
    /// Lets <see cref="RunDotServerAsync"/> keep the host's start-failure trace out of the log while it starts (it
    /// reports a taken port itself, and any other start failure still ends as an unhandled exception with its trace).
    /// </summary>
    public static WebApplicationBuilder AddServerStart(this WebApplicationBuilder builder)
    {
        var state = new StartState();
        builder.Services.AddSingleton(state);
        // The host's category logs its life at Debug and its failures at Error and above; only the failures are kept.
        builder.Logging.AddFilter(HostCategory, level => level >= LogLevel.Error && !state.Starting);
        return builder;
    }

    /// <summary>Runs until shut down; 0, or 1 when the address is already in use.</summary>
    public static async Task<int> RunDotServerAsync(this WebApplication app)
    {
        var state = app.Services.GetRequiredService<StartState>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerStart));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            state.Starting = false;
            AnnounceAddresses(app, logger);
        });
        state.Starting = true;
        await using (app)
        {
            try
            {
                await app.StartAsync();
            }
            catch (IOException ex) when (IsAddressInUse(ex))
            {
                // The hosted services (the sync worker, the flushers) started before Kestrel could not bind: they are
                // stopped as at a shutdown, not left running into the disposal of the services they use.
                await app.StopAsync();
                await ReportAddressInUseAsync(ex);
                return 1;
            }
            finally
            {
                state.Starting = false;
            }

            await app.WaitForShutdownAsync();
            return 0;
        }
    }

    private static async Task ReportAddressInUseAsync(IOException ex)
    {
        var address = BindAddress().Match(ex.Message) is { Success: true } m && Uri.TryCreate(m.Groups[1].Value, UriKind.Absolute, out var uri)
            ? uri
            : null;
        await Console.Error.WriteLineAsync(address is null
            ? "the address is already in use: stop the other server or pass --urls http://127.0.0.1:PORT"
            : $"{address.Authority} is already in use: stop the other server or pass --urls {address.Scheme}://{address.Host}:PORT");
    }

    private static bool IsAddressInUse(Exception ex)
    {
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }

    private static void AnnounceAddresses(WebApplication app, ILogger logger)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        if (addresses.Count == 0)
        {
            return;
        }

        var listening = string.Join(", ", addresses);
        var first = Browsable(addresses[0]);
        if (SwaggerExtensions.IsEnabled(app.Configuration))
        {
            Log.Listening(logger, listening, first + SettingsPage.Route, first + "/swagger");
        }
        else
        {
            Log.ListeningWithoutSwagger(logger, listening, first + SettingsPage.Route);
        }
    }

    /// <summary>A link one can open: a wildcard host (0.0.0.0, [::], +, *) is reached as localhost.</summary>
    private static string Browsable(string address)
        => WildcardHost().Replace(address.TrimEnd('/'), "://localhost:");

    [GeneratedRegex(@"Failed to bind to address (\S+): address already in use", RegexOptions.IgnoreCase)]
    private static partial Regex BindAddress();

    [GeneratedRegex(@"://(0\.0\.0\.0|\[::\]|\+|\*):")]
    private static partial Regex WildcardHost();

    private sealed class StartState
    {
        public volatile bool Starting;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Dot API listening on {Addresses} — Settings / Users: {PageUrl}, Swagger UI: {SwaggerUrl}")]
        public static partial void Listening(ILogger logger, string addresses, string pageUrl, string swaggerUrl);

        [LoggerMessage(2, LogLevel.Information, "Dot API listening on {Addresses} — Settings / Users: {PageUrl}")]
        public static partial void ListeningWithoutSwagger(ILogger logger, string addresses, string pageUrl);
    }
}

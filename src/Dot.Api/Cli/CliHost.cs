namespace Dot.Api.Cli;

internal static class CliHost
{
    /// <summary>Parses an admin command, or prints the one-line reason and exits 2.</summary>
    public static CliArguments ParseOrExit(string[] args)
    {
        try
        {
            return CliRunner.Parse(args);
        }
        catch (CliUsageException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            Environment.Exit(2);
            throw; // not reached
        }
    }

    public static Task<int> RunAsync(CliArguments command, IServiceProvider services)
        => CliRunner.RunAsync(command, services, Console.Out, Console.Error, Console.In);

    /// <summary>Commands keep stdout for their answer: logs go to stderr, warnings and worse only.</summary>
    public static ILoggingBuilder ForCommandLine(this ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o => o.SingleLine = true);
        logging.AddConfiguration(new ConfigurationBuilder().Build());
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.None); // a failure is reported as one line instead
        return logging;
    }
}

using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Microsoft.Extensions.Options;

namespace Dot.Api.Cli;

/// <summary>A parsed command line: either finished (usage printed, or a bad argument reported) or a command to run.</summary>
internal sealed record CliParsed(int? ExitCode, ParseResult? Result, CliVerb? Verb);

/// <summary>
/// The admin commands of API.md §6 on System.CommandLine, run against the same database and services as the server.
/// Only the requested output goes to stdout; errors are one line on stderr with a non-zero exit code: 2 for bad
/// arguments (with a suggestion for a misspelt word), 1 for a refusal.
/// </summary>
internal static class CliHost
{
    private static readonly ParserConfiguration Parser = new() { ResponseFileTokenReplacer = null };

    /// <summary>
    /// Parses the command against the commands registered in <paramref name="services"/>; prints usage (exit 0) or the
    /// one-line reason (exit 2) and ends the process there.
    /// </summary>
    public static CliParsed ParseOrExit(CliStart start, IServiceProvider services)
    {
        var parsed = Parse(services, start.CommandArgs, Console.Out, Console.Error);
        if ((parsed.ExitCode ?? CheckSettings(services, Console.Error)) is { } code)
        {
            Console.Out.Flush();
            Environment.Exit(code);
        }

        return parsed;
    }

    /// <summary>
    /// The checks the server makes when it starts (every <c>ValidateOnStart</c>), made before a command touches the
    /// database, since a command never starts the host: a bad setting is one line naming the key, exit 1.
    /// </summary>
    public static int? CheckSettings(IServiceProvider services, TextWriter stderr)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return null;
        }
        catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    public static CliParsed Parse(IServiceProvider services, string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = CliCommands.BuildRoot(services.GetServices<ICliCommands>());
        var result = root.Parse(args, Parser);
        var command = result.CommandResult.Command;
        if (command.Name == "help" && result.CommandResult.Parent is CommandResult { Command: RootCommand })
        {
            return Help(root, result.GetValue<string[]>("command") ?? [], stdout, stderr);
        }

        if (result.Action is HelpAction)
        {
            result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
            return new CliParsed(0, result, null);
        }

        if (result.Errors.Count == 0 && command is CliVerb verb)
        {
            return new CliParsed(null, result, verb);
        }

        stderr.WriteLine($"error: {Describe(result)}");
        return new CliParsed(2, result, null);
    }

    public static async Task<int> RunAsync(CliParsed command, IServiceProvider services, TextWriter stdout, TextWriter stderr,
        TextReader stdin, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var scope = services.CreateAsyncScope();
            return await command.Verb!.Handler(command.Result!, new CliContext(scope.ServiceProvider, stdout, stdin), cancellationToken);
        }
        catch (CliUsageException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return 2;
        }
        catch (CliRefusedException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One line, no stack trace: the database is missing, locked or unreadable, say.
            await stderr.WriteLineAsync($"error: {ex.GetBaseException().Message}");
            return 1;
        }
    }

    public static Task<int> RunAsync(CliParsed command, IServiceProvider services)
        => RunAsync(command, services, Console.Out, Console.Error, Console.In);

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

    /// <summary><c>help</c>, <c>help tokens</c>, <c>help tokens create</c>: the usage of that command.</summary>
    private static CliParsed Help(RootCommand root, string[] words, TextWriter stdout, TextWriter stderr)
    {
        Command command = root;
        foreach (var word in words)
        {
            if (command.Subcommands.FirstOrDefault(c => c.Name == word) is not { } next)
            {
                stderr.WriteLine($"error: {UnknownCommand(command, word)}");
                return new CliParsed(2, null, null);
            }

            command = next;
        }

        var result = root.Parse([.. words, "--help"], Parser);
        result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return new CliParsed(0, result, null);
    }

    /// <summary>The first thing wrong, as one line: a misspelt word or option gets the nearest one as a suggestion.</summary>
    private static string Describe(ParseResult result)
    {
        var command = result.CommandResult.Command;
        if (result.UnmatchedTokens.Count > 0)
        {
            var token = result.UnmatchedTokens[0];
            if (token.StartsWith('-'))
            {
                var names = command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).ToList();
                return $"'{PathOf(command)}' has no option {token}{Suggest(token, names, name => name)}";
            }

            return command.Subcommands.Count > 0
                ? UnknownCommand(command, token)
                : $"unexpected argument '{token}' for '{PathOf(command)}'.";
        }

        if (command is not CliVerb && command.Subcommands.Count > 0 && command is not RootCommand)
        {
            return $"'{PathOf(command)}' needs a command: {string.Join(", ", command.Subcommands.Select(c => c.Name))}.";
        }

        return result.Errors.Count > 0
            ? string.Join(" ", result.Errors.Select(e => e.Message))
            : $"'{PathOf(command)}' only takes host options (--urls URL, --Section:Key=value).";
    }

    private static string UnknownCommand(Command parent, string word)
    {
        var prefix = parent is RootCommand ? string.Empty : PathOf(parent) + " ";
        var names = parent.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        return $"unknown command '{prefix}{word}'{Suggest(word, names, name => prefix + name)}";
    }

    /// <summary>"; did you mean 'tokens create'?" for a near miss, else the list to choose from.</summary>
    private static string Suggest(string word, IReadOnlyList<string> candidates, Func<string, string> show)
    {
        var best = candidates
            .Select(c => (Name: c, Distance: Distance(word, c)))
            .Where(c => c.Distance <= (word.Length <= 3 ? 1 : 2) || c.Name.StartsWith(word, StringComparison.Ordinal))
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return best.Name is not null
            ? $"; did you mean '{show(best.Name)}'?"
            : $"; try: {string.Join(", ", candidates)} (or --help).";
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    private static string PathOf(Command command)
        => string.Join(' ', command.Parents.OfType<Command>().Where(c => c is not RootCommand).Reverse().Select(c => c.Name).Append(command.Name));
}

namespace Dot.Api.Cli;

/// <summary>
/// How the executable was asked to run: the server, or an admin command. The host sees only <see cref="HostArgs"/>,
/// never the command's words, so <c>--ConnectionStrings:Dot=…</c> or <c>--Dot:Tokens:MaxLifetimeDays=30</c> configure
/// a command exactly as they configure the server.
/// </summary>
public sealed class CliStart
{
    private static readonly HashSet<string> HelpAliases = new(StringComparer.Ordinal) { "-h", "--help", "-?", "help" };

    /// <summary>Host settings without a colon that a command may still be given (<c>--environment Development</c>).</summary>
    private static readonly HashSet<string> PlainHostKeys = new(StringComparer.OrdinalIgnoreCase) { "environment", "urls", "contentRoot" };

    private CliStart(bool isCommand, string[] hostArgs, string[] commandArgs)
    {
        IsCommand = isCommand;
        HostArgs = hostArgs;
        CommandArgs = commandArgs;
    }

    public bool IsCommand { get; }

    /// <summary>What the host's configuration reads (<c>--key=value</c> or <c>--key value</c>).</summary>
    public string[] HostArgs { get; }

    /// <summary>What System.CommandLine parses: the command's words and options, configuration taken out.</summary>
    public string[] CommandArgs { get; }

    /// <summary>
    /// The server runs for no arguments, <c>serve</c>, or host options only (<c>--urls …</c>, <c>--Section:Key=…</c>):
    /// every word is an option's value. Any other word, or a help option, makes a command, so an unknown word is an
    /// error and never a server start.
    /// </summary>
    public static CliStart From(string[] args)
    {
        var rest = args.Length > 0 && args[0] == "serve" ? args[1..] : args;
        if (!args.Any(HelpAliases.Contains) && OnlyOptions(rest))
        {
            return new CliStart(isCommand: false, rest, []);
        }

        var host = new List<string>();
        var command = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (HostKey(args[i]) is not { } valueInline)
            {
                command.Add(args[i]);
                continue;
            }

            host.Add(args[i]);
            if (!valueInline && i + 1 < args.Length)
            {
                host.Add(args[++i]);
            }
        }

        return new CliStart(isCommand: true, [.. host], [.. command]);
    }

    /// <summary>Whether every word is the value of the option before it (as the configuration's command line reads it).</summary>
    private static bool OnlyOptions(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith('-'))
            {
                return false;
            }

            if (!args[i].Contains('=', StringComparison.Ordinal) && i + 1 < args.Length && !args[i + 1].StartsWith('-'))
            {
                i++;
            }
        }

        return true;
    }

    /// <summary>
    /// For a configuration option (<c>--Section:Key</c>, or one of <see cref="PlainHostKeys"/>): whether its value is
    /// in the same token (<c>=</c>). Null for anything else. No command option has a colon in its name.
    /// </summary>
    private static bool? HostKey(string arg)
    {
        if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
        {
            return null;
        }

        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        var key = equals < 0 ? arg[2..] : arg[2..equals];
        return key.Contains(':', StringComparison.Ordinal) || PlainHostKeys.Contains(key) ? equals >= 0 : null;
    }
}

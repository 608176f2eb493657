using System.CommandLine;
using Dot.Api.Infrastructure;

namespace Dot.Api.Cli;

/// <summary>What a command's handler is given: the scope's services, and stdout and stdin of the process.</summary>
public sealed class CliContext(IServiceProvider services, TextWriter stdout, TextReader stdin)
{
    public IServiceProvider Services { get; } = services;

    /// <summary>The command's product only (a token, an id), so <c>TOKEN=$(dot-api tokens create …)</c> works.</summary>
    public TextWriter Stdout { get; } = stdout;

    public TextReader Stdin { get; } = stdin;

    public T Get<T>()
        where T : notnull
        => Services.GetRequiredService<T>();
}

public delegate Task<int> CliHandler(ParseResult parse, CliContext context, CancellationToken cancellationToken);

/// <summary>A command that runs: its handler is called with the services once the host is built.</summary>
internal sealed class CliVerb(string name, string description, CliHandler handler) : Command(name, description)
{
    public CliHandler Handler { get; } = handler;
}

/// <summary>
/// The registration hook: each feature adds its own commands to the root (<c>Users/UsersCli.cs</c> adds
/// <c>users …</c>), from its <c>AddXxx()</c>, so this folder knows no feature. A fresh tree is built for every parse.
/// </summary>
internal static class CliCommands
{
    private static readonly Lock Gate = new();
    private static readonly List<(string Key, Action<RootCommand> Contribute)> Contributors = [];

    /// <summary>Adds a feature's commands; once per key and process, whatever the number of hosts built.</summary>
    public static void Register(string key, Action<RootCommand> contribute)
    {
        lock (Gate)
        {
            if (!Contributors.Exists(c => c.Key == key))
            {
                Contributors.Add((key, contribute));
            }
        }
    }

    /// <summary>The group <paramref name="name"/> under the root, created on first use.</summary>
    public static Command Group(this RootCommand root, string name, string description)
    {
        if (root.Subcommands.FirstOrDefault(c => c.Name == name) is { } existing)
        {
            return existing;
        }

        var group = new Command(name, description);
        root.Subcommands.Add(group);
        return group;
    }

    /// <summary>Adds a runnable command with its options to <paramref name="group"/>.</summary>
    public static CliVerb Verb(this Command group, string name, string description, CliHandler handler, params Option[] options)
    {
        var verb = new CliVerb(name, description, handler);
        foreach (var option in options)
        {
            verb.Options.Add(option);
        }

        group.Subcommands.Add(verb);
        return verb;
    }

    /// <summary>A string option; <paramref name="required"/> ones are reported by name when missing.</summary>
    public static Option<string> Text(string name, string description, bool required = false)
        => new(name) { Description = description, Required = required };

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand("Dot API server: run it (serve, the default) or administer its database.");
        root.Subcommands.Add(new Command("serve", "Run the server (the default). Host options such as --urls http://127.0.0.1:5000 or --ConnectionStrings:Dot=\"Data Source=dot.db\" may follow."));
        var help = new Command("help", "Show usage, for every command or for one: help tokens create.");
        help.Arguments.Add(new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore, Description = "The command to describe." });
        root.Subcommands.Add(help);
        lock (Gate)
        {
            foreach (var (_, contribute) in Contributors)
            {
                contribute(root);
            }
        }

        return root;
    }

    public static void ThrowIfInvalid(FieldErrors errors)
    {
        if (!errors.IsEmpty)
        {
            throw new CliUsageException(errors.ToString());
        }
    }
}

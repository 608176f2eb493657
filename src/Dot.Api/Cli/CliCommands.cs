using System.CommandLine;
using Dot.Api.Validation;
using Microsoft.Extensions.DependencyInjection.Extensions;

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
/// A feature's admin commands (<c>Users/UsersCli.cs</c> adds <c>users …</c>), registered as a service from its
/// <c>AddXxx()</c> (<see cref="CliCommands.AddCliCommands{T}"/>), so this folder knows no feature. The host builds the
/// tree from every registered one; each adds to the root whatever the others did, in any order.
/// </summary>
public interface ICliCommands
{
    void AddTo(RootCommand root);
}

/// <summary>The tree of commands and the helpers a feature's <see cref="ICliCommands"/> builds its part with.</summary>
internal static class CliCommands
{
    /// <summary>Registers a feature's commands (once, however often its <c>AddXxx()</c> runs).</summary>
    public static IServiceCollection AddCliCommands<T>(this IServiceCollection services)
        where T : class, ICliCommands
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICliCommands, T>());
        return services;
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

    /// <summary>A fresh tree for one parse: serve, help, and every feature's commands.</summary>
    internal static RootCommand BuildRoot(IEnumerable<ICliCommands> features)
    {
        var root = new RootCommand("Dot API server: run it (serve, the default) or administer its database.");
        root.Subcommands.Add(new Command("serve", "Run the server (the default). Host options such as --urls http://127.0.0.1:5000 or --ConnectionStrings:Dot=\"Data Source=dot.db\" may follow."));
        var help = new Command("help", "Show usage, for every command or for one: help tokens create.");
        help.Arguments.Add(new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore, Description = "The command to describe." });
        root.Subcommands.Add(help);
        foreach (var feature in features)
        {
            feature.AddTo(root);
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

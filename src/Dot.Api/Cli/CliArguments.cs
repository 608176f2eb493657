namespace Dot.Api.Cli;

/// <summary>Thrown for a command line that cannot be run; the message is the one line printed on stderr.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// <c>group verb --option value … [--flag]</c>. Options are checked against what the verb accepts,
/// so a misspelt option is an error rather than silently ignored.
/// </summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    private CliArguments(string group, string verb)
    {
        Group = group;
        Verb = verb;
    }

    public string Group { get; }

    public string Verb { get; }

    public static readonly IReadOnlySet<string> Groups = new HashSet<string>(StringComparer.Ordinal) { "users", "tokens", "connections" };

    /// <summary>Whether these arguments ask for an admin command rather than the server.</summary>
    public static bool IsCommand(string[] args) => args.Length > 0 && Groups.Contains(args[0]);

    public static CliArguments Parse(string[] args, IReadOnlyDictionary<string, IReadOnlySet<string>> verbs,
        IReadOnlySet<string> flags)
    {
        var group = args[0];
        if (args.Length < 2 || args[1].StartsWith('-'))
        {
            throw new CliUsageException($"'{group}' needs a verb: {string.Join(", ", VerbsOf(group, verbs))}.");
        }

        var key = $"{group} {args[1]}";
        if (!verbs.TryGetValue(key, out var allowed))
        {
            throw new CliUsageException($"unknown command '{key}'; try: {string.Join(", ", VerbsOf(group, verbs))}.");
        }

        var parsed = new CliArguments(group, args[1]);
        for (var i = 2; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new CliUsageException($"unexpected argument '{arg}'.");
            }

            var name = arg[2..];
            if (!allowed.Contains(name))
            {
                throw new CliUsageException($"'{key}' has no option --{name}.");
            }

            if (parsed._options.ContainsKey(name))
            {
                throw new CliUsageException($"--{name} is given twice.");
            }

            if (flags.Contains(name))
            {
                parsed._options[name] = null;
                continue;
            }

            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                throw new CliUsageException($"--{name} needs a value.");
            }

            parsed._options[name] = args[++i];
        }

        return parsed;
    }

    public string Required(string name)
        => _options.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new CliUsageException($"--{name} is required.");

    public string? Optional(string name) => _options.GetValueOrDefault(name);

    public bool Flag(string name) => _options.ContainsKey(name);

    private static IEnumerable<string> VerbsOf(string group, IReadOnlyDictionary<string, IReadOnlySet<string>> verbs)
        => verbs.Keys.Where(k => k.StartsWith(group + " ", StringComparison.Ordinal)).Select(k => k[(group.Length + 1)..]);
}

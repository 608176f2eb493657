namespace Dot.Api.BenchHost;

/// <summary><c>--name value</c> pairs of the benchmark's own commands; an unknown option is an error.</summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    private BenchArguments()
    {
    }

    public static BenchArguments Parse(string command, string[] args, params string[] allowed)
    {
        var parsed = new BenchArguments();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : null;
            if (name is null || !allowed.Contains(name, StringComparer.Ordinal))
            {
                throw new ArgumentException($"{command}: unexpected argument '{args[i]}' (options: --{string.Join(", --", allowed)}).");
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{command}: --{name} needs a value.");
            }

            parsed._values[name] = args[++i];
        }

        return parsed;
    }

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    public int Count(string name, int fallback)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new ArgumentException($"--{name} '{text}' is not a count.");
    }
}

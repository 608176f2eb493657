using Dot.Api.Tokens;

namespace Dot.Api.BenchHost;

/// <summary>
/// <c>gen-tokens --count N [--kind unknown|malformed]</c>: one token a line, for the wrk scripts.
/// <c>unknown</c>: well-formed tokens (right shape and checksum) made by the product's own
/// <see cref="TokenFormat.Generate"/>, in no database: the miss path.
/// <c>malformed</c>: refused before any database work, cycling through four ways a token is wrong
/// (bad checksum, truncated, upper-case hex, not a Dot token at all).
/// </summary>
internal static class GenTokens
{
    public static int Run(string[] args, TextWriter output)
    {
        BenchArguments parsed;
        try
        {
            parsed = BenchArguments.Parse("gen-tokens", args, "count", "kind");
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
        }

        var count = parsed.Count("count", 1000);
        var kind = parsed.Optional("kind") ?? "unknown";
        if (kind is not ("unknown" or "malformed"))
        {
            Console.Error.WriteLine($"error: --kind '{kind}' is not unknown or malformed.");
            return 2;
        }

        for (var i = 0; i < count; i++)
        {
            var token = TokenFormat.Generate();
            output.WriteLine(kind == "unknown" ? token : Malformed(token, i));
        }

        return 0;
    }

    private static string Malformed(string token, int i) => (i % 4) switch
    {
        0 => token[..^1] + (token[^1] == '0' ? '1' : '0'), // bad checksum
        1 => token[..60],                                  // truncated
        2 => token.ToUpperInvariant(),                     // not lower-case hex
        _ => "Bearer " + token[4..36],                     // not a Dot token
    };
}

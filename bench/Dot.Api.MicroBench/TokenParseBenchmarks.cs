using BenchmarkDotNet.Attributes;
using Dot.Api.Tokens;

namespace Dot.Api.MicroBench;

/// <summary>
/// What the handler does to every token before any cache or database: shape + CRC-32 check,
/// SHA-256 into a stack buffer (TokenFormat.CheckAndHash, as TokenVerifier does), and the cache key. Target: 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class TokenParseBenchmarks
{
    private readonly string _token = TokenFormat.Generate();

    /// <summary>The whole per-token work of a request: check, hash, key.</summary>
    [Benchmark(Baseline = true)]
    public TokenHashKey ParseChecksumHash()
    {
        Span<byte> hash = stackalloc byte[32];
        if (TokenFormat.CheckAndHash(_token, hash) != TokenShape.Valid)
        {
            throw new InvalidOperationException("the generated token should be valid");
        }

        return TokenHashKey.From(hash);
    }

    /// <summary>Shape and CRC-32 only: what a mistyped token costs.</summary>
    [Benchmark]
    public TokenShape CheckOnly() => TokenFormat.Check(_token);
}

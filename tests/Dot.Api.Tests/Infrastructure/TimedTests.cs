namespace Dot.Api.Tests;

/// <summary>
/// Tests that measure a latency against a bound run alone, not beside the rest of their assembly: on a small machine the
/// parallel tests' load, not the product, would otherwise decide the figure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimedTests
{
    public const string Name = "timed";
}

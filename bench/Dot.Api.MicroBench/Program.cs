using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Dot.Api.MicroBench;
using Perfolizer.Horology;

// The default job is short (in-process, 3 warm-up + 5 measured iterations of 250 ms: well under a minute);
// BenchmarkDotNet's own arguments still work, e.g. `-- --job medium` for a longer run.
var config = DefaultConfig.Instance
    .AddJob(Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(3)
        .WithIterationCount(5)
        .WithIterationTime(TimeInterval.FromMilliseconds(250))
        .WithId("short-in-process"));

var artifacts = Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts");
BenchmarkSwitcher.FromTypes([typeof(TokenParseBenchmarks)])
    .Run(args.Length == 0 ? ["--filter", "*"] : args, config.WithArtifactsPath(artifacts));

using System.Reflection;

namespace Dot.Api.BenchHost;

/// <summary>
/// <c>Dot.Api.BenchHost seed-tokens …</c>, <c>seed-messages …</c> and <c>gen-tokens …</c> are the benchmark's own commands;
/// anything else (serve, <c>users add</c>, <c>tokens create</c>, …) is handed to the product's entry
/// point unchanged, with this assembly named as a hosting startup so <see cref="BenchStartup"/>
/// adds the /bench routes and settings.
/// </summary>
internal static class BenchMain
{
    public static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "seed-tokens":
                return await SeedTokens.RunAsync(args[1..]);
            case "gen-tokens":
                return GenTokens.Run(args[1..], Console.Out);

            case "seed-messages":
                return await SeedMessages.RunAsync(args[1..]);
            case "pipeline":
                return await PipelineRun.RunAsync(args[1..], RunProductAsync);
        }

        return await RunProductAsync(args);
    }

    private static async Task<int> RunProductAsync(string[] args)
    {
        Environment.SetEnvironmentVariable("ASPNETCORE_HOSTINGSTARTUPASSEMBLIES", typeof(BenchMain).Assembly.GetName().Name);
        var entryPoint = typeof(global::Program).Assembly.EntryPoint
            ?? throw new InvalidOperationException("Dot.Api has no entry point.");
        var result = entryPoint.Invoke(null, BindingFlags.DoNotWrapExceptions, binder: null, [args], culture: null);
        return result switch
        {
            Task<int> task => await task,
            Task task => await task.ContinueWith(static _ => 0, TaskScheduler.Default),
            int code => code,
            _ => 0,
        };
    }
}

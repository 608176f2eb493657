using System.Reflection;

namespace Dot.Api.BenchHost;

/// <summary>
/// <c>Dot.Api.BenchHost seed-tokens …</c> and <c>gen-tokens …</c> are the benchmark's own commands;
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

            // TODO(export benchmark): add `seed-messages --count N` here once the chats/messages
            // schema from the history branch has landed: insert N messages (in chats of a few hundred
            // messages each) directly into SQLite in batched transactions, like SeedTokens does for
            // api_tokens. bench/run.sh (measure_export) then times GET /api/export_history?format=ndjson
            // at 1,000,000 and 2,000,000 messages. Do not invent the schema before it exists.
        }

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

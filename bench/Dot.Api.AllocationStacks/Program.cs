using System.Globalization;
using System.Text;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Dot.Api.AllocationStacks TRACE.nettrace [--frame TEXT] [--type TEXT] [--top N]
//
// The runtime's allocation samples (GCAllocationTick: one about every 100 KB, with the allocating stack) of a
// `dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:5` trace, counted by type: only the samples
// whose stack has a frame containing --frame (default: the pipeline run's request, PipelineRun+<SendAsync>), and
// for each type containing --type, its most frequent stacks. What bench/allocation-stacks.sh prints.
var options = Options.Parse(args);
var etlx = TraceLog.CreateFromEventPipeDataFile(options.Trace);
using var log = new TraceLog(etlx);
var bytesByType = new Dictionary<string, long>(StringComparer.Ordinal);
var stacksByType = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
long total = 0;
foreach (var data in log.Events)
{
    if (data is not GCAllocationTickTraceData tick)
    {
        continue;
    }

    var frames = new List<string>();
    for (var frame = data.CallStack(); frame is not null; frame = frame.Caller)
    {
        frames.Add(frame.CodeAddress.FullMethodName);
    }

    if (!frames.Exists(f => f.Contains(options.Frame, StringComparison.Ordinal)))
    {
        continue;
    }

    var type = tick.TypeName ?? "?";
    total += tick.AllocationAmount64;
    bytesByType[type] = bytesByType.GetValueOrDefault(type) + tick.AllocationAmount64;
    if (options.Type is { } wanted && type.Contains(wanted, StringComparison.Ordinal))
    {
        var stack = new StringBuilder();
        foreach (var frame in frames.TakeWhile(f => !f.Contains(options.Frame, StringComparison.Ordinal)).Take(16))
        {
            stack.Append("      ").AppendLine(frame);
        }

        var stacks = stacksByType.TryGetValue(type, out var known) ? known : stacksByType[type] = new Dictionary<string, long>(StringComparer.Ordinal);
        stacks[stack.ToString()] = stacks.GetValueOrDefault(stack.ToString()) + tick.AllocationAmount64;
    }
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sampled bytes under '{options.Frame}': {total:N0}"));
foreach (var (type, bytes) in bytesByType.OrderByDescending(kv => kv.Value).Take(options.Top))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bytes * 100.0 / Math.Max(total, 1),6:F1} %  {type}"));
}

foreach (var (type, stacks) in stacksByType.OrderByDescending(kv => kv.Value.Values.Sum()))
{
    Console.WriteLine();
    Console.WriteLine($"== {type}");
    foreach (var (stack, bytes) in stacks.OrderByDescending(kv => kv.Value).Take(3))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {bytes * 100.0 / Math.Max(total, 1):F1} % from"));
        Console.Write(stack);
    }
}

internal sealed record Options(string Trace, string Frame, string? Type, int Top)
{
    public static Options Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ArgumentException("usage: Dot.Api.AllocationStacks TRACE.nettrace [--frame TEXT] [--type TEXT] [--top N]");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i += 2)
        {
            if (args[i] is not ("--frame" or "--type" or "--top") || i + 1 >= args.Length)
            {
                throw new ArgumentException($"unexpected argument '{args[i]}' (options: --frame TEXT, --type TEXT, --top N)");
            }

            values[args[i]] = args[i + 1];
        }

        return new Options(args[0], values.GetValueOrDefault("--frame", "PipelineRun+<SendAsync>"), values.GetValueOrDefault("--type"),
            values.TryGetValue("--top", out var top) ? int.Parse(top, CultureInfo.InvariantCulture) : 25);
    }
}

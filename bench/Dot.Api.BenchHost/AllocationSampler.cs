using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Dot.Api.BenchHost;

/// <summary>
/// Which types a request allocates, from the runtime's GC AllocationTick events (one about every
/// 100 KB allocated, naming the type that crossed the mark): enough samples under load to rank the
/// types of the per-request path. On only when <c>BENCH_ALLOCATION_SAMPLING=1</c>; read and reset by
/// <c>GET /bench/allocations</c>.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    public static AllocationSampler? Instance { get; private set; }

    public static bool Enabled => Environment.GetEnvironmentVariable("BENCH_ALLOCATION_SAMPLING") == "1";

    public static void StartIfEnabled()
    {
        if (Enabled)
        {
            Instance ??= new AllocationSampler();
        }
    }

    /// <summary>The sampled bytes per type since the last call, largest first.</summary>
    public IReadOnlyList<AllocationSample> TakeAndReset(int top)
    {
        var taken = Interlocked.Exchange(ref _bytes, new ConcurrentDictionary<string, long>(StringComparer.Ordinal));
        var total = taken.Values.Sum();
        return [.. taken.OrderByDescending(p => p.Value).Take(top)
            .Select(p => new AllocationSample(p.Key, p.Value, total == 0 ? 0 : Math.Round(100.0 * p.Value / total, 1)))];
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is null)
        {
            return;
        }

        var type = Payload(eventData, "TypeName") as string ?? "?";
        var amount = Convert.ToInt64(Payload(eventData, "AllocationAmount64") ?? Payload(eventData, "AllocationAmount") ?? 0L,
            System.Globalization.CultureInfo.InvariantCulture);
        _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }

    private static object? Payload(EventWrittenEventArgs e, string name)
    {
        var index = e.PayloadNames!.IndexOf(name);
        return index >= 0 ? e.Payload![index] : null;
    }
}

internal sealed record AllocationSample(string Type, long SampledBytes, double Percent);

namespace Dot.Api.Infrastructure;

/// <summary>Something gathered in memory and written in batches.</summary>
public interface IBatchWriter
{
    Task<int> FlushAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Flushes <typeparamref name="T"/> every <paramref name="interval"/> (on the injected clock) and once
/// more at shutdown, so a graceful stop loses nothing. A failed flush is logged and retried next time.
/// </summary>
public sealed partial class PeriodicFlusher<T>(T writer, TimeSpan interval, TimeProvider time, ILogger<PeriodicFlusher<T>> logger)
    : BackgroundService
    where T : IBatchWriter
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushSafelyAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushSafelyAsync(CancellationToken.None);
    }

    private async Task FlushSafelyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await writer.FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.FlushFailed(logger, typeof(T).Name, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Warning, "Could not write {Writer}'s batch; it is retried with the next one")]
        public static partial void FlushFailed(ILogger logger, string writer, Exception exception);
    }
}

public static class PeriodicFlusherExtensions
{
    public static IServiceCollection AddPeriodicFlusher<T>(this IServiceCollection services, Func<IServiceProvider, TimeSpan> interval)
        where T : class, IBatchWriter
        => services.AddHostedService(sp => new PeriodicFlusher<T>(sp.GetRequiredService<T>(), interval(sp),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PeriodicFlusher<T>>>()));
}

using System.Diagnostics;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// The one way a test waits for what must happen "soon": poll a condition every <see cref="Interval"/> (or
/// <c>every</c>, where the test measures how soon) until it holds, failing with <c>because</c> once <c>timeout</c> has
/// passed. Never a fixed wait followed by an assertion.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls <paramref name="condition"/> until it is true and returns how long that took; fails with
    /// <paramref name="because"/> (asked at the deadline, so that it can show the last state) after <paramref name="timeout"/>.</summary>
    public static async Task<TimeSpan> TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> because, TimeSpan? every = null)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed >= timeout)
            {
                Assert.Fail($"{because()} (waited {waited.Elapsed.TotalSeconds:0.0} s)");
            }

            await Task.Delay(every ?? Interval);
        }

        return waited.Elapsed;
    }

    public static Task<TimeSpan> TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string because, TimeSpan? every = null)
        => TrueAsync(condition, timeout, () => because, every);

    public static Task<TimeSpan> TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> because, TimeSpan? every = null)
        => TrueAsync(() => Task.FromResult(condition()), timeout, because, every);

    public static Task<TimeSpan> TrueAsync(Func<bool> condition, TimeSpan timeout, string because, TimeSpan? every = null)
        => TrueAsync(() => Task.FromResult(condition()), timeout, () => because, every);

    /// <summary>Polls <paramref name="probe"/> until its value satisfies <paramref name="done"/> and returns that value; fails
    /// with <paramref name="because"/> (given the last value) after <paramref name="timeout"/>.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, Func<T, string> because, TimeSpan? every = null)
    {
        var last = default(T)!;
        await TrueAsync(async () => done(last = await probe()), timeout, () => because(last), every);
        return last;
    }
}

using Dot.Api.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>An instance's PostgreSQL notification listener, for the tests of what instances tell each other.</summary>
public static class Listening
{
    public static NotificationListenerStatus Listener(this DotApiFactory factory) => factory.Services.GetRequiredService<NotificationListenerStatus>();

    /// <summary>Until the instance's listener is connected, for the <paramref name="connects"/>th time at least.</summary>
    public static Task ListeningAsync(this DotApiFactory factory, long connects = 1)
    {
        var status = factory.Listener();
        return Eventually.TrueAsync(() => status.Connected && status.Connects >= connects, TimeSpan.FromSeconds(10),
            "the listener did not connect", every: TimeSpan.FromMilliseconds(5));
    }
}

using Microsoft.AspNetCore.DataProtection;

namespace Dot.Api.Data;

/// <summary>
/// A feature's part in the instance's one listener (PostgreSQL's; <see cref="IStoreProvider.NotifiesOtherInstances"/>): the channel it listens on, what it does with a
/// notification (quickly: it runs on the listener's loop), and what it does when notifications may have been
/// missed (the connection was lost, or is new).
/// </summary>
public interface INotificationHandler
{
    string Channel { get; }

    void Notified(string payload);

    /// <summary>Called each time the listener is (again) listening: what was sent meanwhile was not received.</summary>
    void Resubscribed();
}

/// <summary>What the listener is doing, for the tests and for operators.</summary>
public sealed class NotificationListenerStatus
{
    private long _received;
    private long _rejected;
    private long _connects;
    private long _disconnects;
    private volatile bool _connected;

    /// <summary>Whether the listening connection is up now.</summary>
    public bool Connected => _connected;

    /// <summary>Notifications received and handled (or refused) since start, on every channel (this instance's own included).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>
    /// Notifications dropped unopened: not sealed by an instance of this deployment for their channel, out of the time
    /// window, or received before (a replay). Included in <see cref="Received"/>.
    /// </summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Times the listener started listening: 1 after start, one more per reconnection.</summary>
    public long Connects => Interlocked.Read(ref _connects);

    /// <summary>Times the listening connection was lost.</summary>
    public long Disconnects => Interlocked.Read(ref _disconnects);

    internal void OnConnected()
    {
        Interlocked.Increment(ref _connects);
        _connected = true;
    }

    internal void OnDisconnected()
    {
        Interlocked.Increment(ref _disconnects);
        _connected = false;
    }

    internal void OnReceived() => Interlocked.Increment(ref _received);

    internal void OnRejected() => Interlocked.Increment(ref _rejected);
}

public static class NotificationExtensions
{
    /// <summary>
    /// What the features' notices need whatever the store: the seal, and the status of the listener that the store's
    /// provider runs where other instances can send (PostgreSQL's, which serves whatever
    /// <see cref="INotificationHandler"/>s the features register; on SQLite it is never connected).
    /// A CLI command never starts a listener (its host is built, not run).
    /// </summary>
    public static IServiceCollection AddChangeNotifications(this IServiceCollection services)
    {
        services.AddSingleton<NotificationListenerStatus>();
        // Sealing uses the Data Protection key ring (configured with the connections' secrets, in the database) and
        // the wall clock. Registered on SQLite too, where nothing is sent.
        services.AddSingleton(sp => new NoticeSeal(sp.GetRequiredService<IDataProtectionProvider>(), TimeProvider.System));
        return services;
    }
}

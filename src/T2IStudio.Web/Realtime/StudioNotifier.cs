using System.Collections.Concurrent;

namespace T2IStudio.Web.Realtime;

/// <summary>
/// The app's one notifier: pushes studio events (jobs, galleries, teams, comments, presence) to the circuits
/// of each event's recipient and no one else. A page subscribes for its user and disposes the subscription when
/// it goes away; handlers marshal onto their circuit themselves. Progress arrives already throttled by the worker
/// (<see cref="Generation.Workers.ProgressThrottle"/>).
/// </summary>
public sealed partial class StudioNotifier(ILogger<StudioNotifier> logger)
{
    private readonly ConcurrentDictionary<string, ImmutableSubscribers> _subscribers = new(StringComparer.Ordinal);

    /// <summary>Calls <paramref name="handler"/> for every event of <paramref name="userId"/>'s jobs until disposed.</summary>
    public IDisposable Subscribe(string userId, Func<StudioEvent, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new Subscription(this, userId, handler);
        _subscribers.AddOrUpdate(userId, _ => new([subscription]), (_, list) => new([.. list.Items, subscription]));
        return subscription;
    }

    /// <summary>Delivers <paramref name="jobEvent"/> to its owner's subscribers.</summary>
    public void Publish(StudioEvent jobEvent)
    {
        ArgumentNullException.ThrowIfNull(jobEvent);
        if (!_subscribers.TryGetValue(jobEvent.RecipientId, out var list))
        {
            return;
        }
        foreach (var subscription in list.Items)
        {
            _ = Deliver(subscription, jobEvent);
        }
    }

    private async Task Deliver(Subscription subscription, StudioEvent jobEvent)
    {
        try
        {
            await subscription.Handler(jobEvent);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One broken page must not stop the worker or other subscribers.
            LogHandlerFailed(ex, jobEvent.GetType().Name, jobEvent.RecipientId);
        }
    }

    private void Unsubscribe(Subscription subscription)
    {
        while (_subscribers.TryGetValue(subscription.UserId, out var list))
        {
            var remaining = list.Items.Where(s => s != subscription).ToArray();
            var updated = remaining.Length == 0
                ? _subscribers.TryRemove(new KeyValuePair<string, ImmutableSubscribers>(subscription.UserId, list))
                : _subscribers.TryUpdate(subscription.UserId, new(remaining), list);
            if (updated)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Event} handler of user {UserId} failed")]
    private partial void LogHandlerFailed(Exception ex, string @event, string userId);

    private sealed record ImmutableSubscribers(Subscription[] Items);

    private sealed class Subscription(StudioNotifier owner, string userId, Func<StudioEvent, Task> handler) : IDisposable
    {
        private int _disposed;

        public string UserId { get; } = userId;

        public Func<StudioEvent, Task> Handler { get; } = handler;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(this);
            }
        }
    }
}

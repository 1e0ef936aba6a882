using System.Collections.Concurrent;
using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Realtime;

/// <summary>
/// The app's one notifier: pushes studio events (jobs, galleries, teams, comments, presence) to the circuits
/// of each event's recipient and no one else. A page subscribes for its user and disposes the subscription when
/// it goes away; handlers marshal onto their circuit themselves. Progress arrives already throttled by the worker
/// (<see cref="Generation.Workers.ProgressThrottle"/>).
/// With several web nodes, every event also goes to the other nodes (<see cref="ClusterChannels.Events"/>), whose
/// own subscribers hear it; what arrives from another node is delivered here only, never sent on again.
/// </summary>
public sealed partial class StudioNotifier : IDisposable
{
    private readonly ConcurrentDictionary<string, ImmutableSubscribers> _subscribers = new(StringComparer.Ordinal);
    private readonly IClusterBus _cluster;
    private readonly ILogger<StudioNotifier> _logger;
    private readonly IDisposable _fromOtherNodes;

    /// <summary>Listens for the other nodes' events from the start.</summary>
    public StudioNotifier(IClusterBus cluster, ILogger<StudioNotifier> logger)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        _cluster = cluster;
        _logger = logger;
        _fromOtherNodes = cluster.Subscribe<StudioEvent>(ClusterChannels.Events, studioEvent =>
        {
            DeliverHere(studioEvent);
            return Task.CompletedTask;
        });
    }

    /// <summary>Calls <paramref name="handler"/> for every event of <paramref name="userId"/>'s jobs until disposed.</summary>
    public IDisposable Subscribe(string userId, Func<StudioEvent, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new Subscription(this, userId, handler);
        _subscribers.AddOrUpdate(userId, _ => new([subscription]), (_, list) => new([.. list.Items, subscription]));
        return subscription;
    }

    /// <summary>
    /// Delivers <paramref name="jobEvent"/> to its recipient's subscribers on this node and sends it to the other
    /// nodes for theirs. A <see cref="JobStandingChanged"/> stays here: every node works out the standings of its
    /// own circuits' jobs from the shared database.
    /// </summary>
    public void Publish(StudioEvent jobEvent)
    {
        ArgumentNullException.ThrowIfNull(jobEvent);
        DeliverHere(jobEvent);
        if (jobEvent is JobStandingChanged)
        {
            return;
        }
        try
        {
            _cluster.Publish<StudioEvent>(ClusterChannels.Events, jobEvent);
        }
        catch (NotSupportedException ex)
        {
            // An event kind without a [JsonDerivedType] on StudioEvent: this node's pages heard it; the others cannot.
            LogNotSerialisable(_logger, ex, jobEvent.GetType().Name);
        }
    }

    /// <summary>
    /// Subscriptions alive on this node, all users together: every open page holds its own until it is disposed,
    /// so a count that outlives the pages shows a circuit that was never released.
    /// </summary>
    public int SubscriptionCount => _subscribers.Values.Sum(list => list.Items.Length);

    /// <inheritdoc />
    public void Dispose() => _fromOtherNodes.Dispose();

    private void DeliverHere(StudioEvent jobEvent)
    {
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
            LogHandlerFailed(_logger, ex, jobEvent.GetType().Name, jobEvent.RecipientId);
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
    private static partial void LogHandlerFailed(ILogger logger, Exception ex, string @event, string userId);

    [LoggerMessage(Level = LogLevel.Error, Message = "A {Event} could not be sent to the other nodes: StudioEvent does not name it as a derived type")]
    private static partial void LogNotSerialisable(ILogger logger, Exception ex, string @event);

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

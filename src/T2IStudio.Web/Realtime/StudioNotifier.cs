using System.Collections.Concurrent;

namespace T2IStudio.Web.Realtime;

/// <summary>
/// The app's one notifier: pushes studio events (jobs, galleries, teams, comments, presence) to the circuits
/// of each event's recipient and no one else. A page subscribes for its user and disposes the subscription when it goes away; handlers marshal onto their circuit themselves.
/// Previews are throttled here, per job, and encoded only when one will be sent.
/// </summary>
public sealed partial class StudioNotifier(TimeProvider time, ILogger<StudioNotifier> logger)
{
    /// <summary>The shortest gap between two previews of one job (at most four a second).</summary>
    public static readonly TimeSpan PreviewInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The shortest gap between two progress events of one job without a preview.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, ImmutableSubscribers> _subscribers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, Throttle> _throttles = new();

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
        if (jobEvent is JobCompleted or JobFailed or JobCanceled)
        {
            _throttles.TryRemove(((JobEvent)jobEvent).JobId, out _);
        }
        if (!_subscribers.TryGetValue(jobEvent.RecipientId, out var list))
        {
            return;
        }
        foreach (var subscription in list.Items)
        {
            _ = Deliver(subscription, jobEvent);
        }
    }

    /// <summary>
    /// Publishes progress unless one went out under <see cref="ProgressInterval"/> ago (the last step always
    /// goes); calls <paramref name="encodePreview"/> only when a preview is due.
    /// </summary>
    /// <remarks>Sent to each of <paramref name="recipients"/>: the owner, and the team of a gallery the job saves into; one throttle per job.</remarks>
    public void PublishProgress(Guid jobId, IReadOnlyList<string> recipients, int step, int totalSteps, Func<byte[]?>? encodePreview)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var throttle = _throttles.GetOrAdd(jobId, _ => new Throttle());
        var now = time.GetTimestamp();
        byte[]? preview = null;
        lock (throttle)
        {
            var previewDue = encodePreview is not null && (throttle.LastPreview is null || time.GetElapsedTime(throttle.LastPreview.Value, now) >= PreviewInterval);
            var progressDue = step == totalSteps || throttle.LastProgress is null || time.GetElapsedTime(throttle.LastProgress.Value, now) >= ProgressInterval;
            if (!previewDue && !progressDue)
            {
                return;
            }
            if (previewDue)
            {
                preview = encodePreview!();
                throttle.LastPreview = now;
            }
            throttle.LastProgress = now;
        }
        foreach (var recipient in recipients)
        {
            Publish(new JobProgress(jobId, recipient, step, totalSteps, preview));
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

    private sealed class Throttle
    {
        public long? LastPreview { get; set; }

        public long? LastProgress { get; set; }
    }

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

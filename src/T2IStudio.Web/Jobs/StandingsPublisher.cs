using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Jobs;

/// <summary>
/// Pushes where every waiting or running job stands (<see cref="JobStandingChanged"/>) to the people who follow it,
/// once a second and only when it changed: a place in line moves when anyone's job starts or ends, which sends the
/// job's own people no other event. One read of the queue per node serves every open page, instead of each page
/// asking on a timer.
/// </summary>
public sealed partial class StandingsPublisher(
    JobLifecycle lifecycle, StudioNotifier notifier, EventAudience audience, TimeProvider time, ILogger<StandingsPublisher> logger) : BackgroundService
{
    /// <summary>How often standings are looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<Guid, QueueStanding> _published = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await PublishAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    // The database is busy for a moment: the next tick tries again.
                    LogPublishFailed(ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Reads the queue once and publishes each changed standing; jobs that left the queue are forgotten.</summary>
    public async Task PublishAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var snapshot = await lifecycle.SnapshotAsync(cancellationToken);
            var active = snapshot.Order.Running.Concat(snapshot.Order.Waiting).ToList();
            var ids = active.Select(j => j.Id).ToHashSet();
            foreach (var gone in _published.Keys.Where(id => !ids.Contains(id)).ToList())
            {
                _published.Remove(gone);
            }
            // Who follows a team-gallery job is read when there is news for them, once per gallery and tick: someone
            // who left the team stops hearing at once, someone who joined hears from the next change.
            var audiences = new Dictionary<(string Owner, Guid? Gallery), IReadOnlyList<string>>();
            foreach (var job in active)
            {
                if (snapshot.StandingOf(job.Id, lifecycle) is not { } standing
                    || (_published.TryGetValue(job.Id, out var last) && Same(standing, last)))
                {
                    continue;
                }
                _published[job.Id] = standing;
                var key = (job.OwnerId, job.GalleryId);
                if (!audiences.TryGetValue(key, out var recipients))
                {
                    recipients = job.GalleryId is null ? [job.OwnerId] : await audience.OfJobAsync(job.OwnerId, job.GalleryId, cancellationToken);
                    audiences[key] = recipients;
                }
                foreach (var recipient in recipients)
                {
                    notifier.Publish(new JobStandingChanged(job.Id, recipient, standing));
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    /// <summary>Estimates are shown to the second; a change below that is not worth a message.</summary>
    private static bool Same(QueueStanding now, QueueStanding last) =>
        now with { Eta = Seconds(now.Eta) } == last with { Eta = Seconds(last.Eta) };

    private static TimeSpan? Seconds(TimeSpan? eta) => eta is { } e ? TimeSpan.FromSeconds(Math.Ceiling(e.TotalSeconds)) : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing queue standings failed; the next tick tries again")]
    private partial void LogPublishFailed(Exception ex);
}

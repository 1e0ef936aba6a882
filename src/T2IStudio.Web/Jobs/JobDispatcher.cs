using System.Collections.Concurrent;
using System.Diagnostics;
using T2IStudio.Generation.Queue;

namespace T2IStudio.Web.Jobs;

/// <summary>The work a job asks for: what its time estimate is made of.</summary>
/// <param name="Model">The model id.</param>
/// <param name="Steps">Denoising steps.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="BatchSize">Images.</param>
/// <param name="Guided">Classifier-free guidance doubles the UNet batch.</param>
public sealed record JobShape(string Model, int Steps, int Width, int Height, int BatchSize, bool Guided)
{
    /// <summary>UNet work per step, in megapixel-images.</summary>
    public double WorkPerStep => Width * (double)Height * BatchSize * (Guided ? 2 : 1) / 1e6;
}

/// <summary>Where a job stands: its place in the line, its progress and an estimate of when it is done.</summary>
/// <param name="Position">Jobs that run before it (0: next), or null while it runs.</param>
/// <param name="Step">Steps finished (running jobs).</param>
/// <param name="TotalSteps">Steps it takes.</param>
/// <param name="Eta">Time until it is done, from measured step times; null until the model has been timed.</param>
public sealed record QueueStanding(int? Position, int Step, int TotalSteps, TimeSpan? Eta)
{
    /// <summary>A worker is running it.</summary>
    public bool IsRunning => Position is null;
}

/// <summary>
/// The in-memory side of the queue: the fair order of waiting jobs (the database is the durable side),
/// the running jobs with their cancellation, and step timings for estimates.
/// </summary>
public sealed class JobDispatcher : IDisposable
{
    private readonly FairQueue _queue = new();
    private readonly ConcurrentDictionary<Guid, JobShape> _waiting = new();
    private readonly ConcurrentDictionary<Guid, RunningJob> _running = new();
    private readonly ConcurrentDictionary<string, double> _secondsPerWork = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0);

    /// <summary>Jobs waiting.</summary>
    public int WaitingCount => _queue.Count;

    /// <summary>Jobs a worker is running now.</summary>
    public int RunningCount => _running.Count;

    /// <summary>Puts a job in line; a job already there is left where it is.</summary>
    public void Enqueue(Guid jobId, string ownerId, JobShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _waiting[jobId] = shape;
        if (_queue.Enqueue(jobId, ownerId))
        {
            _signal.Release();
        }
    }

    /// <summary>Waits for the next job in fair order.</summary>
    public async Task<(Guid JobId, string OwnerId)> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _signal.WaitAsync(cancellationToken);
            if (_queue.TryDequeue(out var jobId, out var ownerId))
            {
                return (jobId, ownerId);
            }
        }
    }

    /// <summary>Takes a waiting job out of line; false when it is not waiting.</summary>
    public bool RemoveWaiting(Guid jobId)
    {
        var removed = _queue.Remove(jobId);
        _waiting.TryRemove(jobId, out _);
        return removed;
    }

    /// <summary>
    /// Marks a job as running; its token is cancelled by <see cref="CancelRunning"/>, by <paramref name="stopping"/>,
    /// or once <paramref name="timeLimit"/> has passed on <paramref name="time"/>.
    /// </summary>
    public RunningJob BeginRunning(Guid jobId, JobShape shape, CancellationToken stopping, TimeSpan? timeLimit = null, TimeProvider? time = null)
    {
        _waiting.TryRemove(jobId, out _);
        var running = new RunningJob(jobId, shape, timeLimit, time ?? TimeProvider.System, stopping);
        _running[jobId] = running;
        return running;
    }

    /// <summary>Forgets a running job; a completed run's timing feeds the estimates.</summary>
    public void EndRunning(RunningJob running, bool completed)
    {
        ArgumentNullException.ThrowIfNull(running);
        _running.TryRemove(running.JobId, out _);
        if (completed && running.Step > 0)
        {
            var measured = running.Elapsed.TotalSeconds / (running.Step * running.Shape.WorkPerStep);
            _secondsPerWork.AddOrUpdate(running.Shape.Model, measured, (_, old) => 0.7 * old + 0.3 * measured);
        }
        running.Dispose();
    }

    /// <summary>Asks a running job to stop before its next step; false when it is not running here.</summary>
    public bool CancelRunning(Guid jobId)
    {
        if (!_running.TryGetValue(jobId, out var running))
        {
            return false;
        }
        running.RequestCancel();
        return true;
    }

    /// <summary>Where <paramref name="jobId"/> stands, or null when it is neither waiting nor running.</summary>
    public QueueStanding? StandingOf(Guid jobId)
    {
        if (_running.TryGetValue(jobId, out var running))
        {
            return new QueueStanding(null, running.Step, running.Shape.Steps, Remaining(running));
        }
        if (_queue.PositionOf(jobId) is not { } position || !_waiting.TryGetValue(jobId, out var shape))
        {
            return null;
        }
        TimeSpan? eta = TimeSpan.Zero;
        foreach (var other in _running.Values)
        {
            eta += Remaining(other);
        }
        foreach (var ahead in _queue.Snapshot().Take(position))
        {
            eta += _waiting.TryGetValue(ahead, out var aheadShape) ? Estimate(aheadShape, aheadShape.Steps) : null;
        }
        eta += Estimate(shape, shape.Steps);
        return new QueueStanding(position, 0, shape.Steps, eta);
    }

    /// <inheritdoc />
    public void Dispose() => _signal.Dispose();

    private TimeSpan? Remaining(RunningJob running) => Estimate(running.Shape, running.Shape.Steps - running.Step);

    private TimeSpan? Estimate(JobShape shape, int steps) =>
        RateOf(shape.Model) is { } rate ? TimeSpan.FromSeconds(rate * shape.WorkPerStep * Math.Max(0, steps)) : null;

    /// <summary>Seconds per unit of work on <paramref name="model"/>: from finished runs, else from a run in progress.</summary>
    private double? RateOf(string model)
    {
        if (_secondsPerWork.TryGetValue(model, out var rate))
        {
            return rate;
        }
        // The first run of a model after start: its own pace so far is the best guess (after a couple of steps).
        var running = _running.Values.FirstOrDefault(r => r.Shape.Model == model && r.Step >= 2);
        return running is null ? null : running.Elapsed.TotalSeconds / (running.Step * running.Shape.WorkPerStep);
    }
}

/// <summary>A job a worker is running now.</summary>
public sealed class RunningJob : IDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly CancellationTokenSource? _limit;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    internal RunningJob(Guid jobId, JobShape shape, TimeSpan? timeLimit, TimeProvider time, CancellationToken stopping)
    {
        JobId = jobId;
        Shape = shape;
        if (timeLimit is { } limit)
        {
            _limit = new CancellationTokenSource(limit, time);
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping, _limit.Token);
        }
        else
        {
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        }
    }

    /// <summary>The job.</summary>
    public Guid JobId { get; }

    /// <summary>Its work.</summary>
    public JobShape Shape { get; }

    /// <summary>Steps finished.</summary>
    public int Step { get; set; }

    /// <summary>True once its owner asked to cancel it.</summary>
    public bool CancelRequested { get; private set; }

    /// <summary>True once it has run past the per-job time limit (and was not cancelled by a person first).</summary>
    public bool TimedOut => _limit?.IsCancellationRequested == true && !CancelRequested;

    /// <summary>Cancelled when its owner (or an admin) cancels, the app stops, or the time limit passes.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Time since the worker started it.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    internal void RequestCancel()
    {
        CancelRequested = true;
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It finished between the lookup and the cancel: nothing left to stop.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _cancel.Dispose();
        _limit?.Dispose();
    }
}

using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Jobs;

/// <summary>Where a job stands: its place in the line, its progress and an estimate of when it is done.</summary>
/// <param name="Position">Jobs that run before it (0: next), or null while it runs.</param>
/// <param name="Step">Steps finished (running jobs).</param>
/// <param name="TotalSteps">Steps it takes.</param>
/// <param name="Eta">Time until it is done, from measured step times; null until the model has been timed, or while no connected worker has its model.</param>
/// <param name="WorkerName">The worker running it (running jobs).</param>
/// <param name="NoWorker">Waiting, and no worker connected to any node has its model: it runs once one joins.</param>
public sealed record QueueStanding(int? Position, int Step, int TotalSteps, TimeSpan? Eta, string? WorkerName = null, bool NoWorker = false)
{
    /// <summary>A worker is running it.</summary>
    public bool IsRunning => Position is null;
}

/// <summary>
/// One read of the queue (<see cref="FairOrder"/>), from which places in line are answered; estimates are worked
/// out when asked, from the live steps of running jobs and the measured speed of every worker connected to any node
/// (<see cref="WorkerDirectory"/>).
/// </summary>
public sealed class QueueSnapshot
{
    private readonly Dictionary<Guid, int> _positions;
    private readonly Dictionary<Guid, QueuedJob> _running;

    internal QueueSnapshot(FairOrder order, int version, long readAt)
    {
        Order = order;
        Version = version;
        ReadAt = readAt;
        _positions = order.Waiting.Select((job, index) => (job.Id, index)).ToDictionary(x => x.Id, x => x.index);
        _running = order.Running.ToDictionary(j => j.Id);
    }

    /// <summary>The order it was made from.</summary>
    public FairOrder Order { get; }

    internal int Version { get; }

    internal long ReadAt { get; }

    /// <summary>Jobs waiting.</summary>
    public int WaitingCount => Order.Waiting.Count;

    /// <summary>Jobs running.</summary>
    public int RunningCount => Order.Running.Count;

    /// <summary>A job's place in line (0: next), or null when it is not waiting.</summary>
    public int? PositionOf(Guid jobId) => _positions.TryGetValue(jobId, out var position) ? position : null;

    internal QueueStanding? StandingOf(Guid jobId, JobLifecycle lifecycle)
    {
        if (_running.TryGetValue(jobId, out var running))
        {
            var live = lifecycle.Live(jobId);
            var step = live.Worker is null ? running.Step : live.Step;
            // A job of a batch ends with its batch: when its worker is free.
            TimeSpan? eta = live.Worker is { } worker && BusySeconds([worker], lifecycle)[KeyOf(worker)] is { } seconds
                ? TimeSpan.FromSeconds(seconds)
                : null;
            return new QueueStanding(null, step, running.Shape.Steps, eta, live.Worker?.Name ?? running.WorkerName);
        }
        if (!_positions.TryGetValue(jobId, out var position))
        {
            return null;
        }
        var target = Order.Waiting[position];
        var noWorker = !lifecycle.Workers.Any(w => w.Has(target.Model));
        return new QueueStanding(position, 0, target.Shape.Steps, Simulate(position, lifecycle), NoWorker: noWorker);
    }

    /// <summary>
    /// Hands the waiting jobs up to <paramref name="position"/> to the connected workers in order, each to the
    /// worker with the model that is free first, and returns when the last of them is done.
    /// </summary>
    private TimeSpan? Simulate(int position, JobLifecycle lifecycle)
    {
        var workers = lifecycle.Workers;
        if (workers.Count == 0)
        {
            return null;
        }
        var free = BusySeconds(workers, lifecycle);
        double? done = null;
        for (var i = 0; i <= position; i++)
        {
            var job = Order.Waiting[i];
            var candidates = workers.Where(w => w.Has(job.Model)).ToList();
            if (candidates.Count == 0)
            {
                if (i == position)
                {
                    return null;
                }
                continue; // nobody here runs it now: it holds up no one
            }
            var worker = candidates.OrderBy(w => free[KeyOf(w)] ?? double.MaxValue).First();
            var rate = RateOf(worker, job.Model, lifecycle);
            var key = KeyOf(worker);
            free[key] = free[key] is { } start && rate is { } r ? start + r * job.Shape.WorkPerStep * job.Shape.Steps : null;
            done = free[key];
        }
        return done is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
    }

    /// <summary>
    /// Seconds until each of <paramref name="workers"/> (by node and id) is free; null for one whose jobs cannot be
    /// estimated yet. A worker running a batch is free when the whole batch ends: its rate is per unit of work, so the
    /// remaining work of all its jobs adds up (one job alone is a sum of one).
    /// </summary>
    private Dictionary<(string Node, string Worker), double?> BusySeconds(IEnumerable<ClusterWorker> workers, JobLifecycle lifecycle)
    {
        var free = workers.ToDictionary(KeyOf, _ => (double?)0);
        foreach (var job in Order.Running)
        {
            var live = lifecycle.Live(job.Id);
            if (live.Worker is { } worker && free.TryGetValue(KeyOf(worker), out var before))
            {
                var rate = RateOf(worker, job.Model, lifecycle) ?? live.SecondsPerWork;
                free[KeyOf(worker)] = before is { } b && rate is { } r ? b + r * job.Shape.WorkPerStep * Math.Max(0, job.Shape.Steps - live.Step) : null;
            }
        }
        return free;
    }

    /// <summary>A worker's measured speed on a model; else another worker's on it; else a running job's pace so far.</summary>
    private double? RateOf(ClusterWorker worker, string model, JobLifecycle lifecycle)
    {
        if (worker.SecondsPerWork(model) is { } own)
        {
            return own;
        }
        foreach (var other in lifecycle.Workers)
        {
            if (other.SecondsPerWork(model) is { } measured)
            {
                return measured;
            }
        }
        foreach (var job in Order.Running.Where(j => j.Model == model))
        {
            if (lifecycle.Live(job.Id).SecondsPerWork is { } pace)
            {
                return pace;
            }
        }
        return null;
    }

    private static (string Node, string Worker) KeyOf(ClusterWorker worker) => (worker.NodeId, worker.Id);
}

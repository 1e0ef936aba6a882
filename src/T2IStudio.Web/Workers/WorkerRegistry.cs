using System.Collections.Concurrent;
using T2IStudio.Generation.Workers;

namespace T2IStudio.Web.Workers;

/// <summary>Where a worker runs.</summary>
public enum WorkerKind
{
    /// <summary>Inside this web process (<c>Queue:RunWorker</c>).</summary>
    InProcess,

    /// <summary>A <c>T2IStudio.Worker</c> process connected to <c>/hubs/workers</c>.</summary>
    Remote,
}

/// <summary>A worker connected to this node: what it announced, what it does now, how fast it has been.</summary>
public sealed class WorkerSession
{
    private readonly ConcurrentDictionary<string, double> _secondsPerWork = new(StringComparer.Ordinal);
    private readonly Func<Guid, Task> _stopJob;
    private readonly Lock _jobs = new();
    private Guid? _head;
    private int _headStep;
    private long _lastHeartbeatTicks;
    private int _jobsDone;
    private int _jobsFailed;

    internal WorkerSession(WorkerHello hello, WorkerKind kind, DateTimeOffset joinedAt, Func<Guid, Task> stopJob, string? keyId)
    {
        KeyId = keyId;
        Id = hello.WorkerId.ToString("N");
        Name = hello.Name;
        Device = hello.Device;
        FreeMemoryBytes = hello.FreeMemoryBytes;
        Models = new HashSet<string>(hello.Models, StringComparer.Ordinal);
        Version = hello.Version;
        Kind = kind;
        JoinedAt = joinedAt;
        _lastHeartbeatTicks = joinedAt.UtcTicks;
        _stopJob = stopJob;
    }

    /// <summary>The worker's id as it announced it (32 hex digits); jobs' <c>LeaseWorkerId</c> names it.</summary>
    public string Id { get; }

    /// <summary>Its name, for people.</summary>
    public string Name { get; }

    /// <summary>Its device, in words.</summary>
    public string Device { get; }

    /// <summary>Free memory of its device when it joined, if it said.</summary>
    public long? FreeMemoryBytes { get; }

    /// <summary>The model ids it has; it gets jobs for these only.</summary>
    public IReadOnlySet<string> Models { get; }

    /// <summary>Its build.</summary>
    public string Version { get; }

    /// <summary>The key a remote worker joined with (its id in the key store, or "config"); null in process.</summary>
    public string? KeyId { get; }

    /// <summary>In this process, or remote.</summary>
    public WorkerKind Kind { get; }

    /// <summary>When it joined.</summary>
    public DateTimeOffset JoinedAt { get; }

    /// <summary>When it last beat (or joined, or reported).</summary>
    public DateTimeOffset LastHeartbeat => new(Interlocked.Read(ref _lastHeartbeatTicks), TimeSpan.Zero);

    /// <summary>The job it runs now, if any.</summary>
    public Guid? CurrentJobId
    {
        get
        {
            lock (_jobs)
            {
                return _head;
            }
        }
        internal set
        {
            lock (_jobs)
            {
                _head = value;
            }
        }
    }

    /// <summary>Steps of the current job finished.</summary>
    public int CurrentStep
    {
        get
        {
            lock (_jobs)
            {
                return _headStep;
            }
        }
        internal set
        {
            lock (_jobs)
            {
                _headStep = value;
            }
        }
    }

    /// <summary>Jobs it completed since it joined.</summary>
    public int JobsDone => Volatile.Read(ref _jobsDone);

    /// <summary>Jobs that failed on it since it joined.</summary>
    public int JobsFailed => Volatile.Read(ref _jobsFailed);

    // The jobs of a batch end at about the same time, on different threads.
    internal void CountDone() => Interlocked.Increment(ref _jobsDone);

    internal void CountFailed() => Interlocked.Increment(ref _jobsFailed);

    /// <summary>
    /// The other jobs of its batch (cross-user batching: companions leased beside <see cref="CurrentJobId"/>, run in
    /// the same UNet calls), each with its steps finished.
    /// </summary>
    public ConcurrentDictionary<Guid, int> BatchJobIds { get; } = new();

    /// <summary>Every job it runs now, the head first, with its steps finished (one consistent reading).</summary>
    public IReadOnlyList<(Guid JobId, int Step)> RunningJobs
    {
        get
        {
            lock (_jobs)
            {
                var companions = BatchJobIds.OrderBy(j => j.Key).Select(j => (j.Key, j.Value));
                return _head is { } head ? [(head, _headStep), .. companions] : [.. companions];
            }
        }
    }

    /// <summary>Its head job with its step and its companions with theirs, read together.</summary>
    internal (Guid? Head, int Step, Dictionary<Guid, int> Companions) Jobs()
    {
        lock (_jobs)
        {
            return (_head, _headStep, BatchJobIds.ToDictionary(j => j.Key, j => j.Value));
        }
    }

    /// <summary>Busy while it holds a job.</summary>
    public bool IsBusy
    {
        get
        {
            lock (_jobs)
            {
                return _head is not null || !BatchJobIds.IsEmpty;
            }
        }
    }

    // Hold, SetStep and Drop run on different threads (a job's own report, a companion's ending, a lease lost), and
    // Drop reads the batch and then promotes one of its jobs: one lock makes each of them whole, so two jobs ending
    // at once cannot promote a job that has already ended and leave the worker looking busy forever.

    /// <summary>It holds <paramref name="jobId"/>: as its head job when it holds none, otherwise beside it in the batch.</summary>
    internal void Hold(Guid jobId)
    {
        lock (_jobs)
        {
            if (_head is null || _head == jobId)
            {
                _head = jobId;
            }
            else
            {
                BatchJobIds.TryAdd(jobId, 0);
            }
        }
    }

    /// <summary>Steps finished on <paramref name="jobId"/>.</summary>
    internal void SetStep(Guid jobId, int step)
    {
        lock (_jobs)
        {
            if (_head == jobId)
            {
                _headStep = step;
            }
            else if (BatchJobIds.ContainsKey(jobId))
            {
                BatchJobIds[jobId] = step;
            }
        }
    }

    /// <summary>It no longer holds <paramref name="jobId"/>; a companion becomes the head when the head ends first.</summary>
    internal void Drop(Guid jobId)
    {
        lock (_jobs)
        {
            BatchJobIds.TryRemove(jobId, out _);
            if (_head != jobId)
            {
                return;
            }
            _head = null;
            _headStep = 0;
            if (BatchJobIds.Keys.Order().FirstOrDefault() is var next && next != Guid.Empty && BatchJobIds.TryRemove(next, out var step))
            {
                _head = next;
                _headStep = step;
            }
        }
    }

    /// <summary>Seconds per unit of UNet work (<see cref="Jobs.JobShape.WorkPerStep"/> × steps) on <paramref name="model"/>, once measured here.</summary>
    public double? SecondsPerWork(string model) => _secondsPerWork.TryGetValue(model, out var rate) ? rate : null;

    /// <summary>Every measured speed, per model.</summary>
    internal IReadOnlyDictionary<string, double> MeasuredRates() => new Dictionary<string, double>(_secondsPerWork, StringComparer.Ordinal);

    internal void Measured(string model, double secondsPerWork) =>
        _secondsPerWork.AddOrUpdate(model, secondsPerWork, (_, old) => 0.7 * old + 0.3 * secondsPerWork);

    internal void Beat(DateTimeOffset now) => Interlocked.Exchange(ref _lastHeartbeatTicks, now.UtcTicks);

    /// <summary>Tells the worker to stop <paramref name="jobId"/> before its next step.</summary>
    internal Task StopJobAsync(Guid jobId) => _stopJob(jobId);
}

/// <summary>
/// The workers connected to this node, in-process and remote: the Admin → Workers page lists them live, the
/// queue estimates from their measured speed, and a cancel finds the worker that must stop. Thread-safe.
/// </summary>
public sealed partial class WorkerRegistry(TimeProvider time, ILogger<WorkerRegistry> logger)
{
    private readonly ConcurrentDictionary<string, WorkerSession> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Func<Task>[] _listeners = [];

    /// <summary>Every connected worker, in the order they joined.</summary>
    public IReadOnlyList<WorkerSession> Sessions => [.. _sessions.Values.OrderBy(s => s.JoinedAt).ThenBy(s => s.Name, StringComparer.Ordinal)];

    /// <summary>The connected worker with <paramref name="workerId"/>, if any.</summary>
    public WorkerSession? Find(string? workerId) => workerId is not null && _sessions.TryGetValue(workerId, out var session) ? session : null;

    /// <summary>
    /// Adds a worker; <paramref name="stopJob"/> is how it is told to stop a job. A worker that joins again with
    /// the same id (a reconnect) replaces its old session, but only as the same kind of worker with the same key:
    /// a worker cannot take over the in-process worker's id, nor the id of a worker that joined with another key.
    /// </summary>
    /// <exception cref="InvalidOperationException">The id is in use by another worker.</exception>
    public WorkerSession Join(WorkerHello hello, WorkerKind kind, Func<Guid, Task> stopJob, string? keyId = null)
    {
        ArgumentNullException.ThrowIfNull(hello);
        ArgumentNullException.ThrowIfNull(stopJob);
        var session = new WorkerSession(hello, kind, time.GetUtcNow(), stopJob, keyId);
        var joined = _sessions.AddOrUpdate(session.Id, session, (_, existing) =>
            existing.Kind == kind && string.Equals(existing.KeyId, keyId, StringComparison.Ordinal) ? session : existing);
        if (joined != session)
        {
            LogIdTaken(session.Name, session.Id);
            throw new InvalidOperationException("That worker id is in use by another worker.");
        }
        LogJoined(session.Name, session.Id, kind, session.Device, string.Join(", ", session.Models));
        RaiseChanged();
        return session;
    }

    /// <summary>Removes <paramref name="session"/> (unless a newer session of the same worker replaced it).</summary>
    public void Leave(WorkerSession session, string reason)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (_sessions.TryRemove(new KeyValuePair<string, WorkerSession>(session.Id, session)))
        {
            LogLeft(session.Name, session.Id, reason, session.JobsDone);
            RaiseChanged();
        }
    }

    /// <summary>Calls <paramref name="listener"/> whenever a worker joins, leaves, takes or finishes a job; dispose to stop.</summary>
    public IDisposable Subscribe(Func<Task> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_gate)
        {
            _listeners = [.. _listeners, listener];
        }
        return new Subscription(this, listener);
    }

    /// <summary>Tells listeners something changed (a job taken or finished, a beat that matters).</summary>
    internal void RaiseChanged()
    {
        foreach (var listener in _listeners)
        {
            _ = NotifyAsync(listener);
        }
    }

    private async Task NotifyAsync(Func<Task> listener)
    {
        try
        {
            await listener();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogListenerFailed(ex);
        }
    }

    private void Unsubscribe(Func<Task> listener)
    {
        lock (_gate)
        {
            _listeners = [.. _listeners.Where(l => l != listener)];
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {Name} ({WorkerId}, {Kind}) joined on {Device} with models {Models}")]
    private partial void LogJoined(string name, string workerId, WorkerKind kind, string device, string models);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused worker {Name}: its id {WorkerId} belongs to another worker (another kind or key)")]
    private partial void LogIdTaken(string name, string workerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {Name} ({WorkerId}) left: {Reason}; it completed {Done} job(s)")]
    private partial void LogLeft(string name, string workerId, string reason, int done);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A worker-list listener failed")]
    private partial void LogListenerFailed(Exception ex);

    private sealed class Subscription(WorkerRegistry owner, Func<Task> listener) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(listener);
            }
        }
    }
}

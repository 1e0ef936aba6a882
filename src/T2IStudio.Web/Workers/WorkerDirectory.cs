using System.Text.Json;
using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Workers;

/// <summary>A worker as every node sees it: its node, what it announced, what it runs now and how fast it has been.</summary>
/// <param name="NodeId">The id of the node it is connected to.</param>
/// <param name="NodeName">That node's name, for people.</param>
/// <param name="Id">The worker's id (32 hex digits); jobs' <c>LeaseWorkerId</c> names it.</param>
/// <param name="Name">Its name, for people.</param>
/// <param name="Kind">In that node's process, or remote.</param>
/// <param name="Device">Its device, in words.</param>
/// <param name="FreeMemoryBytes">Free memory of its device when it joined, if it said.</param>
/// <param name="Models">The model ids it has.</param>
/// <param name="CurrentJobId">The job it runs now, if any.</param>
/// <param name="CurrentStep">Steps of that job finished.</param>
/// <param name="JobsDone">Jobs it completed since it joined.</param>
/// <param name="JobsFailed">Jobs that failed on it since it joined.</param>
/// <param name="JoinedAt">When it joined.</param>
/// <param name="LastHeartbeat">When it last beat.</param>
/// <param name="Rates">Measured seconds per unit of UNet work, per model.</param>
public sealed record ClusterWorker(
    string NodeId,
    string NodeName,
    string Id,
    string Name,
    WorkerKind Kind,
    string Device,
    long? FreeMemoryBytes,
    IReadOnlyList<string> Models,
    Guid? CurrentJobId,
    int CurrentStep,
    int JobsDone,
    int JobsFailed,
    DateTimeOffset JoinedAt,
    DateTimeOffset LastHeartbeat,
    IReadOnlyDictionary<string, double> Rates)
{
    /// <summary>
    /// The other jobs of its batch with their steps finished (cross-user batching: companions of
    /// <see cref="CurrentJobId"/> in the same UNet calls); empty when it runs one job, or from a node before batching.
    /// </summary>
    public IReadOnlyDictionary<Guid, int> BatchJobs { get; init; } = new Dictionary<Guid, int>();

    /// <summary>Jobs it runs now, the head included.</summary>
    public int RunningCount => (CurrentJobId is null ? 0 : 1) + BatchJobs.Count;

    /// <summary>Busy while it holds a job.</summary>
    public bool IsBusy => CurrentJobId is not null || BatchJobs.Count > 0;

    /// <summary>Whether it has <paramref name="model"/>.</summary>
    public bool Has(string model) => Models.Contains(model, StringComparer.Ordinal);

    /// <summary>Seconds per unit of UNet work on <paramref name="model"/>, once measured.</summary>
    public double? SecondsPerWork(string model) => Rates.TryGetValue(model, out var rate) ? rate : null;

    /// <summary>A worker connected to <paramref name="node"/>, as it is now.</summary>
    public static ClusterWorker Of(WorkerSession session, ClusterNode node)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(node);
        var (head, step, companions) = session.Jobs(); // one reading: a job ending meanwhile is in it whole or not at all
        return new(node.Id, node.Name, session.Id, session.Name, session.Kind, session.Device, session.FreeMemoryBytes,
            [.. session.Models.Order(StringComparer.Ordinal)], head, step, session.JobsDone, session.JobsFailed,
            session.JoinedAt, session.LastHeartbeat, session.MeasuredRates())
        {
            BatchJobs = companions,
        };
    }
}

/// <summary>
/// The workers connected to every web node. Each node shares its own (<see cref="ClusterStates.Workers"/>) when
/// they change, a second apart at most, and every <see cref="ShareEvery"/> besides, for <see cref="Lifetime"/>;
/// it reads the others' every second. This node's own workers are always read live from its
/// <see cref="WorkerRegistry"/>; another node's are as of that node's last share (a second or so old), and a node
/// that stops withdraws its own. Alone (no Redis) it is exactly the registry.
/// </summary>
public sealed partial class WorkerDirectory(WorkerRegistry registry, IClusterBus cluster, TimeProvider time, ILogger<WorkerDirectory> logger)
    : BackgroundService
{
    /// <summary>How often this node reads the others' workers, and shares its own when they changed.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>How often this node shares its workers when nothing changed.</summary>
    public static readonly TimeSpan ShareEvery = TimeSpan.FromSeconds(5);

    /// <summary>How long a node's shared workers count without a newer share (it stopped or lost Redis).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(15);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _readGate = new(1, 1);
    private Func<Task>[] _listeners = [];
    private (IReadOnlyList<ClusterWorker> Workers, IReadOnlyList<ClusterNode> Nodes, string Fingerprint) _others = ([], [], "");
    private int _dirty = 1;
    private long _sharedAt;

    /// <summary>This node.</summary>
    public ClusterNode Node => cluster.Node;

    /// <summary>This node's workers, live.</summary>
    public IReadOnlyList<ClusterWorker> Own => [.. registry.Sessions.Select(s => ClusterWorker.Of(s, cluster.Node))];

    /// <summary>Other nodes' workers, as last read.</summary>
    public IReadOnlyList<ClusterWorker> Others => _others.Workers;

    /// <summary>Every node's workers: this node's first (live), then the others' by node name.</summary>
    public IReadOnlyList<ClusterWorker> All => [.. Own, .. Others];

    /// <summary>The nodes seen sharing their workers (this one first), connected workers or not.</summary>
    public IReadOnlyList<ClusterNode> Nodes => [cluster.Node, .. _others.Nodes];

    /// <summary>Calls <paramref name="listener"/> when this node's workers change or another node's are read changed; dispose to stop.</summary>
    public IDisposable Subscribe(Func<Task> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var own = registry.Subscribe(listener);
        lock (_gate)
        {
            _listeners = [.. _listeners, listener];
        }
        return new Subscription(() =>
        {
            own.Dispose();
            lock (_gate)
            {
                _listeners = [.. _listeners.Where(l => l != listener)];
            }
        });
    }

    /// <summary>Reads the other nodes' workers now (and tells listeners when they changed); returns every node's.</summary>
    public async Task<IReadOnlyList<ClusterWorker>> ReadAsync(CancellationToken cancellationToken = default)
    {
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            var states = await cluster.ReadStatesAsync(ClusterStates.Workers, cancellationToken);
            var workers = new List<ClusterWorker>();
            var nodes = new List<ClusterNode>();
            foreach (var state in states.Where(s => s.Node.Id != cluster.Node.Id).OrderBy(s => s.Node.Name, StringComparer.Ordinal).ThenBy(s => s.Node.Id, StringComparer.Ordinal))
            {
                nodes.Add(state.Node);
                try
                {
                    var shared = JsonSerializer.Deserialize<List<ClusterWorker>>(state.Json, Json) ?? [];
                    workers.AddRange(shared.Select(w => w with { NodeId = state.Node.Id, NodeName = state.Node.Name }));
                }
                catch (JsonException ex)
                {
                    LogUnreadable(ex, state.Node.Name);
                }
            }
            var fingerprint = JsonSerializer.Serialize(new { nodes, workers }, Json);
            var changed = fingerprint != _others.Fingerprint;
            _others = (workers, nodes, fingerprint);
            if (changed)
            {
                Notify();
            }
            return All;
        }
        finally
        {
            _readGate.Release();
        }
    }

    /// <summary>Shares this node's workers now.</summary>
    public async Task ShareAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Exchange(ref _dirty, 0);
        _sharedAt = time.GetTimestamp();
        await cluster.ShareStateAsync(ClusterStates.Workers, JsonSerializer.Serialize(Own, Json), Lifetime, cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var changes = registry.Subscribe(() =>
        {
            Interlocked.Exchange(ref _dirty, 1);
            return Task.CompletedTask;
        });
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                try
                {
                    if (Volatile.Read(ref _dirty) == 1 || time.GetElapsedTime(_sharedAt) >= ShareEvery)
                    {
                        await ShareAsync(stoppingToken);
                    }
                    await ReadAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    // Redis is away for a moment: the bus says so, and the next tick tries again.
                    LogTickFailed(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        await WithdrawAsync();
    }

    /// <summary>A node that stops takes its workers off the list at once, instead of leaving them for <see cref="Lifetime"/>.</summary>
    private async Task WithdrawAsync()
    {
        try
        {
            await cluster.ShareStateAsync(ClusterStates.Workers, "[]", TimeSpan.Zero, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogTickFailed(ex);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _readGate.Dispose();
        base.Dispose();
    }

    private void Notify()
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "The workers node {Node} shared could not be read")]
    private partial void LogUnreadable(Exception ex, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sharing or reading the cluster's workers failed; the next tick tries again")]
    private partial void LogTickFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A worker-directory listener failed")]
    private partial void LogListenerFailed(Exception ex);

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                dispose();
            }
        }
    }
}

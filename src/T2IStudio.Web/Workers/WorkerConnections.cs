using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Workers;

/// <summary>
/// The remote workers connected to this node's <c>/hubs/workers</c>, one entry per SignalR connection: the key it
/// joined with (so revoking a key disconnects it), its session once it said Hello, the lease it waits for, and
/// the images of its current job as they arrive. Hub instances live for one call; this outlives them.
/// </summary>
public sealed partial class WorkerConnections(
    JobLifecycle lifecycle,
    WorkerRegistry registry,
    IHubContext<WorkerHub> hub,
    IOptionsMonitor<WorkersOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<WorkerConnections> logger)
{
    private readonly ConcurrentDictionary<string, WorkerConnection> _connections = new(StringComparer.Ordinal);

    /// <summary>How many workers are connected (said Hello or not).</summary>
    public int Count => _connections.Count;

    internal WorkerConnection Add(HubCallerContext context, string keyId)
    {
        var connection = new WorkerConnection(context, keyId);
        _connections[context.ConnectionId] = connection;
        return connection;
    }

    internal WorkerConnection? Find(string connectionId) => _connections.GetValueOrDefault(connectionId);

    /// <summary>Joins the connection's worker to the registry; a stop reaches it as <see cref="WorkerHubNames.Stop"/>.</summary>
    internal WorkerSession Join(WorkerConnection connection, WorkerHello hello)
    {
        var connectionId = connection.ConnectionId;
        var session = registry.Join(hello, WorkerKind.Remote, stopJob: jobId => hub.Clients.Client(connectionId).SendAsync(WorkerHubNames.Stop, jobId), connection.KeyId);
        connection.Session = session;
        return session;
    }

    /// <summary>Starts waiting for a job for the connection's worker (once: a second Ready while it waits is ignored).</summary>
    internal void Ready(WorkerConnection connection, WorkerSession session)
    {
        lock (connection.Gate)
        {
            if (connection.Leasing is { IsCompleted: false } || connection.Leaving.IsCancellationRequested)
            {
                return;
            }
            connection.Leasing = Task.Run(() => LeaseAsync(connection, session));
        }
    }

    private async Task LeaseAsync(WorkerConnection connection, WorkerSession session)
    {
        JobAssignment assignment;
        try
        {
            assignment = await lifecycle.LeaseNextAsync(session, connection.Leaving.Token);
        }
        catch (OperationCanceledException) when (connection.Leaving.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogLeaseFailed(ex, session.Name);
            return;
        }
        connection.StartDelivery(assignment.JobId, assignment.LeaseId);
        try
        {
            await hub.Clients.Client(connection.ConnectionId).SendAsync(WorkerHubNames.Assign, assignment, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // It never got the job: back in line, not counted against the job.
            LogAssignFailed(ex, assignment.JobId, session.Name);
            await lifecycle.ReleaseAsync(session, assignment.JobId, assignment.LeaseId, CancellationToken.None);
        }
    }

    /// <summary>
    /// The connection closed: stop waiting for a job for it, then tell the lifecycle, which takes back its lease
    /// (a lease made while it was closing included) and removes it from the registry.
    /// </summary>
    internal async Task RemoveAsync(string connectionId, string reason)
    {
        if (!_connections.TryRemove(connectionId, out var connection))
        {
            return;
        }
        reason = connection.CloseReason ?? reason;
        Task? leasing;
        lock (connection.Gate)
        {
            connection.Leaving.Cancel();
            leasing = connection.Leasing;
        }
        if (leasing is not null)
        {
            await leasing;
        }
        try
        {
            if (connection.Session is { } session)
            {
                // The app stopping closes every connection: the workers did not fail, and will reconnect to the next start.
                var stopping = lifetime.ApplicationStopping.IsCancellationRequested;
                await lifecycle.WorkerLeftAsync(session, stopping ? "this node is stopping" : reason, keepLease: stopping);
            }
            else
            {
                LogLeftWithoutHello(connection.KeyId);
            }
        }
        finally
        {
            // Whatever happened to its lease (the database may be down for a moment), a gone worker is not listed any more.
            if (connection.Session is { } gone)
            {
                registry.Leave(gone, reason);
            }
            connection.Leaving.Dispose();
        }
    }

    /// <summary>Disconnects every worker that joined with key <paramref name="keyId"/> (it was revoked); returns how many.</summary>
    public int Disconnect(string keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        var count = 0;
        foreach (var connection in _connections.Values.Where(c => c.KeyId == keyId))
        {
            LogDisconnecting(connection.Session?.Name ?? connection.ConnectionId, keyId);
            connection.CloseReason = "its key was revoked";
            connection.Context.Abort();
            count++;
        }
        return count;
    }

    /// <summary>The most bytes one image may have.</summary>
    internal long MaxImageBytes => options.CurrentValue.MaxImageMegabytes * 1024L * 1024L;

    /// <summary>The most bytes all images of one job may have together.</summary>
    internal long MaxDeliveryBytes => options.CurrentValue.MaxDeliveryMegabytes * 1024L * 1024L;

    [LoggerMessage(Level = LogLevel.Error, Message = "Waiting for a job for worker {Name} failed")]
    private partial void LogLeaseFailed(Exception ex, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not hand job {JobId} to worker {Name}; it goes back in line")]
    private partial void LogAssignFailed(Exception ex, Guid jobId, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "A worker connection (key {KeyId}) closed before it said Hello")]
    private partial void LogLeftWithoutHello(string keyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disconnecting worker {Name}: its key {KeyId} was revoked")]
    private partial void LogDisconnecting(string name, string keyId);
}

/// <summary>One worker connection's state.</summary>
internal sealed class WorkerConnection(HubCallerContext context, string keyId)
{
    private readonly SortedDictionary<int, DeliveredImage> _images = [];
    private (Guid JobId, Guid LeaseId) _delivery;

    public HubCallerContext Context { get; } = context;

    public string ConnectionId => Context.ConnectionId;

    public string KeyId { get; } = keyId;

    public Lock Gate { get; } = new();

    public WorkerSession? Session { get; set; }

    public Task? Leasing { get; set; }

    /// <summary>Why the server closed it, when it did.</summary>
    public string? CloseReason { get; set; }

    public CancellationTokenSource Leaving { get; } = new();

    /// <summary>A new lease: images of an earlier job still held here are dropped.</summary>
    public void StartDelivery(Guid jobId, Guid leaseId)
    {
        lock (Gate)
        {
            _delivery = (jobId, leaseId);
            _images.Clear();
        }
    }

    /// <summary>Bytes of images already received for (<paramref name="jobId"/>, <paramref name="leaseId"/>), other than <paramref name="batchIndex"/>.</summary>
    public long BytesHeld(Guid jobId, Guid leaseId, int batchIndex)
    {
        lock (Gate)
        {
            return _delivery == (jobId, leaseId) ? _images.Where(i => i.Key != batchIndex).Sum(i => (long)i.Value.Png.Length) : 0;
        }
    }

    /// <summary>Keeps one received image (a second upload of the same index replaces the first).</summary>
    public void Keep(Guid jobId, Guid leaseId, DeliveredImage image)
    {
        lock (Gate)
        {
            if (_delivery != (jobId, leaseId))
            {
                _delivery = (jobId, leaseId);
                _images.Clear();
            }
            _images[image.BatchIndex] = image;
        }
    }

    /// <summary>The images received for (<paramref name="jobId"/>, <paramref name="leaseId"/>), in batch order; forgets them.</summary>
    public IReadOnlyList<DeliveredImage> Take(Guid jobId, Guid leaseId)
    {
        lock (Gate)
        {
            if (_delivery != (jobId, leaseId))
            {
                return [];
            }
            var images = _images.Values.ToList();
            _images.Clear();
            return images;
        }
    }
}

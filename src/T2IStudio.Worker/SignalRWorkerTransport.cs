using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using T2IStudio.Generation.Workers;

namespace T2IStudio.Worker;

/// <summary>The server refused this worker's key (HTTP 401): no retry will help.</summary>
public sealed class WorkerKeyRefusedException() : Exception("The server refused this worker's key.");

/// <summary>
/// The remote transport: a SignalR connection to the web app's <c>/hubs/workers</c>, or to one of several web
/// nodes' hubs. When the connection is lost it reconnects by itself, trying the nodes in turn (the next one
/// first), and says Hello again with the same worker id (and Ready again when it was waiting), so the node it
/// reaches adopts the lease of a job it is running. It turns the server's <c>Stop</c> into
/// <see cref="LeasedJob.Stop"/>, and uploads images as one stream of 64 KiB chunks each.
/// </summary>
public sealed partial class SignalRWorkerTransport : IWorkerTransport, IAsyncDisposable
{
    private readonly HubConnection[] _connections;
    private readonly IReadOnlyList<Uri> _hubUrls;
    private readonly WorkerHello _hello;
    private readonly ILogger<SignalRWorkerTransport> _logger;
    private readonly TimeProvider _time;
    private readonly Channel<LeasedJob> _assigned = Channel.CreateUnbounded<LeasedJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, (LeasedJob Job, Guid LeaseId)> _held = new();
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _disposing = new();
    private int _current;
    private int _reconnecting;
    private Task _reconnect = Task.CompletedTask;
    private int _waiting;
    private volatile bool _joined;
    private volatile bool _refused;
    private TimeSpan _heartbeatInterval = TimeSpan.FromSeconds(5);
    private TimeSpan _leaseTime = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A transport to <paramref name="hubUrl"/> presenting <paramref name="key"/>, announcing <paramref name="hello"/>;
    /// <paramref name="time"/> is the clock of the delivery deadline (the system clock when null).
    /// </summary>
    public SignalRWorkerTransport(Uri hubUrl, string key, WorkerHello hello, ILogger<SignalRWorkerTransport> logger, TimeProvider? time = null)
        : this([hubUrl], key, hello, logger, configure: null, time)
    {
    }

    /// <summary>
    /// A transport to the first of <paramref name="hubUrls"/> that answers, moving on to the others in turn when
    /// the connection is lost; otherwise as the single-address constructor.
    /// </summary>
    public SignalRWorkerTransport(IReadOnlyList<Uri> hubUrls, string key, WorkerHello hello, ILogger<SignalRWorkerTransport> logger, TimeProvider? time = null)
        : this(hubUrls, key, hello, logger, configure: null, time)
    {
    }

    /// <summary>As the public constructors; <paramref name="configure"/> adjusts the HTTP connection (tests: an in-memory server).</summary>
    internal SignalRWorkerTransport(IReadOnlyList<Uri> hubUrls, string key, WorkerHello hello, ILogger<SignalRWorkerTransport> logger, Action<Microsoft.AspNetCore.Http.Connections.Client.HttpConnectionOptions>? configure, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(hubUrls);
        ArgumentOutOfRangeException.ThrowIfZero(hubUrls.Count);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(hello);
        _hubUrls = hubUrls;
        _hello = hello;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _connections = [.. hubUrls.Select(hubUrl => Build(hubUrl, key, configure))];
    }

    /// <summary>The hub this worker is joined to (or was last joined to, while it reconnects).</summary>
    public Uri HubUrl => _hubUrls[Volatile.Read(ref _current)];

    private HubConnection Connection => _connections[Volatile.Read(ref _current)];

    private HubConnection Build(Uri hubUrl, string key, Action<Microsoft.AspNetCore.Http.Connections.Client.HttpConnectionOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(hubUrl);
        var connection = new HubConnectionBuilder()
            .WithUrl(hubUrl, options =>
            {
                options.AccessTokenProvider = () => Task.FromResult<string?>(key);
                configure?.Invoke(options);
            })
            .Build();
        connection.On<JobAssignment>(WorkerHubNames.Assign, OnAssign);
        connection.On<Guid>(WorkerHubNames.Stop, OnStop);
        connection.Closed += error => OnClosed(connection, error);
        return connection;
    }

    /// <inheritdoc />
    public TimeSpan HeartbeatInterval => _heartbeatInterval;

    /// <summary>
    /// Connects to the first server that answers and says Hello, trying them in the order given; when none
    /// can be reached it retries the list with backoff (1 s doubling to 30 s between rounds). Throws
    /// <see cref="WorkerKeyRefusedException"/> when a server refuses the key.
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var index = (attempt - 1) % _connections.Length;
            try
            {
                await _connections[index].StartAsync(cancellationToken);
                Volatile.Write(ref _current, index);
                break;
            }
            catch (HttpRequestException ex) when (ex.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new WorkerKeyRefusedException();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (attempt % _connections.Length != 0)
                {
                    LogTryingNext(_hubUrls[index], ex.Message);
                    continue;
                }
                var round = attempt / _connections.Length;
                var delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(round - 1, 5))));
                LogUnreachable(_hubUrls[index], attempt, ex.Message, delay.TotalSeconds);
                await Task.Delay(delay, _time, cancellationToken);
            }
        }
        await SayHelloAsync(Connection, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<LeasedJob?> NextJobAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _waiting, 1);
        await SendReadyAsync();
        var read = _assigned.Reader.ReadAsync(cancellationToken).AsTask();
        var finished = await Task.WhenAny(read, _closed.Task);
        if (finished == read)
        {
            try
            {
                return await read;
            }
            catch (OperationCanceledException)
            {
                // Stopping: a job assigned from now on is handed straight back (OnAssign), one already queued on dispose.
                Volatile.Write(ref _waiting, 0);
                throw;
            }
        }
        Volatile.Write(ref _waiting, 0);
        if (_refused || await _closed.Task is HttpRequestException { StatusCode: HttpStatusCode.Unauthorized })
        {
            throw new WorkerKeyRefusedException();
        }
        return null;
    }

    /// <inheritdoc />
    /// <inheritdoc />
    public async Task<IReadOnlyList<LeasedJob>> JoinBatchAsync(LeasedJob head, BatchOffer offer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(offer);
        JobAssignment[] assignments;
        try
        {
            assignments = await Connection.InvokeAsync<JobAssignment[]>(WorkerHubNames.JoinBatch, head.JobId, LeaseOf(head), offer.MaxImages, cancellationToken);
        }
        catch (Microsoft.AspNetCore.SignalR.HubException ex)
        {
            // A server from before cross-user batching has no JoinBatch: the head runs alone.
            LogJoinUnsupported(ex.Message);
            return [];
        }
        var jobs = new List<LeasedJob>(assignments.Length);
        foreach (var assignment in assignments)
        {
            var job = new LeasedJob(assignment);
            _held[assignment.JobId] = (job, assignment.LeaseId);
            LogAssigned(assignment.JobId, assignment.Model, assignment.Attempt);
            jobs.Add(job);
        }
        return jobs;
    }

    public Task ReportProgressAsync(LeasedJob job, int step, int totalSteps, byte[]? previewJpeg, CancellationToken cancellationToken) =>
        Connection.InvokeAsync<bool>(WorkerHubNames.Progress, job.JobId, LeaseOf(job), step, totalSteps, previewJpeg, cancellationToken);

    /// <inheritdoc />
    public Task<bool> HeartbeatAsync(LeasedJob job, CancellationToken cancellationToken) =>
        Connection.InvokeAsync<bool>(WorkerHubNames.Heartbeat, job.JobId, LeaseOf(job), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// A job that finishes while the server is out of reach (a web restart, a dropped link) waits for the
    /// connection to come back, up to the lease time, and uploads every image again on the new connection:
    /// the server still holds the lease for this worker, so the run is not lost.
    /// </remarks>
    public async Task<DeliveryReceipt> DeliverAsync(LeasedJob job, string modelHash, IReadOnlyList<DeliveredImage> images, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(images);
        var leaseId = LeaseOf(job);
        var deadline = _time.GetUtcNow() + _leaseTime;
        try
        {
            while (true)
            {
                await WaitUntilJoinedAsync(deadline, cancellationToken);
                try
                {
                    return await UploadAsync(job.JobId, leaseId, modelHash, images, cancellationToken);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested
                    && _time.GetUtcNow() < deadline && !_closed.Task.IsCompleted)
                {
                    // The connection dropped under the upload (or had not said Hello again yet): once it is back, send the images again.
                    LogDeliveryRetry(job.JobId, ex.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(500), _time, cancellationToken);
                }
            }
        }
        finally
        {
            _held.TryRemove(job.JobId, out _);
        }
    }

    private async Task<DeliveryReceipt> UploadAsync(Guid jobId, Guid leaseId, string modelHash, IReadOnlyList<DeliveredImage> images, CancellationToken cancellationToken)
    {
        foreach (var image in images)
        {
            var receipt = await Connection.InvokeAsync<DeliveryReceipt>(
                WorkerHubNames.UploadImage, jobId, leaseId, image.BatchIndex, image.Seed, Chunks(image.Png, cancellationToken), cancellationToken);
            if (!receipt.Accepted)
            {
                return receipt;
            }
        }
        return await Connection.InvokeAsync<DeliveryReceipt>(WorkerHubNames.Complete, jobId, leaseId, modelHash, cancellationToken);
    }

    /// <summary>Waits until the connection is back and this worker has said Hello on it (or <paramref name="deadline"/> passes).</summary>
    private async Task WaitUntilJoinedAsync(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (!_joined && _time.GetUtcNow() < deadline && !_closed.Task.IsCompleted)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken);
        }
    }

    /// <inheritdoc />
    public Task ReportFailureAsync(LeasedJob job, string error, int step, CancellationToken cancellationToken) =>
        Finish(job, leaseId => Connection.InvokeAsync<bool>(WorkerHubNames.Fail, job.JobId, leaseId, error, step, cancellationToken));

    /// <inheritdoc />
    public Task ReportStoppedAsync(LeasedJob job, int step, CancellationToken cancellationToken) =>
        Finish(job, leaseId => Connection.InvokeAsync<bool>(WorkerHubNames.Stopped, job.JobId, leaseId, step, cancellationToken));

    /// <inheritdoc />
    public Task ReleaseAsync(LeasedJob job, CancellationToken cancellationToken) =>
        Finish(job, leaseId => Connection.InvokeAsync<bool>(WorkerHubNames.Release, job.JobId, leaseId, cancellationToken));

    /// <summary>Closes the connection (the server takes back any lease this worker still holds).</summary>
    public async ValueTask DisposeAsync()
    {
        // A job assigned as this worker stopped waiting never ran: hand it back, uncounted, before the connection closes.
        while (_assigned.Reader.TryRead(out var unread))
        {
            await ReleaseUnwantedAsync(unread.Assignment);
            unread.Dispose();
        }
        _closed.TrySetResult(null);
        await _disposing.CancelAsync();
        try
        {
            await _reconnect;
        }
        catch (OperationCanceledException)
        {
            // Stopped mid-reconnect.
        }
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
        _disposing.Dispose();
    }

    private async Task Finish(LeasedJob job, Func<Guid, Task<bool>> report)
    {
        ArgumentNullException.ThrowIfNull(job);
        var leaseId = LeaseOf(job);
        try
        {
            await report(leaseId);
        }
        finally
        {
            _held.TryRemove(job.JobId, out _);
        }
    }

    private static Guid LeaseOf(LeasedJob job) => job.Assignment.LeaseId;

    private static async IAsyncEnumerable<byte[]> Chunks(byte[] png, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < png.Length; offset += WorkerHubNames.ChunkBytes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return png.AsSpan(offset, Math.Min(WorkerHubNames.ChunkBytes, png.Length - offset)).ToArray();
            await Task.Yield();
        }
    }

    private async Task SayHelloAsync(HubConnection connection, CancellationToken cancellationToken)
    {
        var welcome = await connection.InvokeAsync<WorkerWelcome>(WorkerHubNames.Hello, _hello, cancellationToken);
        _heartbeatInterval = TimeSpan.FromSeconds(Math.Max(1, welcome.HeartbeatSeconds));
        _leaseTime = TimeSpan.FromSeconds(Math.Max(1, welcome.LeaseSeconds));
        _joined = true;
    }

    private async Task SendReadyAsync()
    {
        try
        {
            await Connection.InvokeAsync(WorkerHubNames.Ready);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Reconnecting: Ready goes again once the connection is back (OnReconnectedAsync).
            LogReadyDeferred(ex.Message);
        }
    }

    private void OnAssign(JobAssignment assignment)
    {
        var job = new LeasedJob(assignment);
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            _held[assignment.JobId] = (job, assignment.LeaseId);
            LogAssigned(assignment.JobId, assignment.Model, assignment.Attempt);
            _assigned.Writer.TryWrite(job);
            return;
        }
        // A second job while one runs (a lease made as the connection changed): hand it straight back.
        job.Dispose();
        LogReturned(assignment.JobId);
        _ = ReleaseUnwantedAsync(assignment);
    }

    private async Task ReleaseUnwantedAsync(JobAssignment assignment)
    {
        try
        {
            await Connection.InvokeAsync<bool>(WorkerHubNames.Release, assignment.JobId, assignment.LeaseId);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogReportFailed(ex, assignment.JobId);
        }
    }

    private void OnStop(Guid jobId)
    {
        if (_held.TryGetValue(jobId, out var held))
        {
            LogStopping(jobId);
            held.Job.Stop();
        }
    }

    private Task OnClosed(HubConnection connection, Exception? error)
    {
        if (_disposing.IsCancellationRequested || connection != Connection || Interlocked.Exchange(ref _reconnecting, 1) == 1)
        {
            // Disposing, a connection that was not in use, or a reconnect already under way.
            return Task.CompletedTask;
        }
        _joined = false;
        LogReconnecting(HubUrl, error?.Message ?? "closed");
        _reconnect = Task.Run(() => ReconnectAsync(Volatile.Read(ref _current), _disposing.Token));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Tries the servers in turn, the one after the lost one first, until one takes this worker back: with one
    /// server, again after 0, 1, 2, 5, then every 10 s; with several, a whole round at once and those pauses
    /// between rounds. A 401 ends it: a revoked key stays revoked.
    /// </summary>
    private async Task ReconnectAsync(int lost, CancellationToken cancellationToken)
    {
        try
        {
            for (var retry = 0; ; retry++)
            {
                if (retry % _connections.Length == 0)
                {
                    await Task.Delay(RetryDelay(retry / _connections.Length), _time, cancellationToken);
                }
                var index = (lost + 1 + retry) % _connections.Length;
                var connection = _connections[index];
                try
                {
                    await connection.StartAsync(cancellationToken);
                    Volatile.Write(ref _current, index);
                    await SayHelloAsync(connection, cancellationToken);
                    Volatile.Write(ref _reconnecting, 0);
                    LogReconnected(_hubUrls[index]);
                    if (connection.State == HubConnectionState.Disconnected)
                    {
                        // Lost again before the reconnect was marked done (its Closed was ignored): start over.
                        await OnClosed(connection, null);
                        return;
                    }
                    if (Volatile.Read(ref _waiting) == 1)
                    {
                        await SendReadyAsync();
                    }
                    return;
                }
                catch (HttpRequestException ex) when (ex.StatusCode == HttpStatusCode.Unauthorized)
                {
                    _refused = true;
                    _closed.TrySetResult(ex);
                    return;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
                {
                    LogReconnectFailed(_hubUrls[index], ex.Message);
                    await connection.StopAsync(CancellationToken.None);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed while reconnecting.
        }
    }

    private static TimeSpan RetryDelay(int round) => round switch
    {
        0 => TimeSpan.Zero,
        1 => TimeSpan.FromSeconds(1),
        2 => TimeSpan.FromSeconds(2),
        3 => TimeSpan.FromSeconds(5),
        _ => TimeSpan.FromSeconds(10),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "The server does not batch jobs ({Reason}); each job runs alone")]
    private partial void LogJoinUnsupported(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot reach {HubUrl} (try {Attempt}): {Reason}; trying again in {Seconds} s")]
    private partial void LogUnreachable(Uri hubUrl, int attempt, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Took job {JobId} ({Model}, attempt {Attempt})")]
    private partial void LogAssigned(Guid jobId, string model, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handed job {JobId} back: this worker already runs one")]
    private partial void LogReturned(Guid jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "The server asked to stop job {JobId}")]
    private partial void LogStopping(Guid jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cannot reach {HubUrl} ({Reason}); trying the next server")]
    private partial void LogTryingNext(Uri hubUrl, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection to {HubUrl} ({Reason}); reconnecting")]
    private partial void LogReconnecting(Uri hubUrl, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Could not reconnect to {HubUrl} ({Reason})")]
    private partial void LogReconnectFailed(Uri hubUrl, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The images of job {JobId} did not get through ({Reason}); sending them again once the server is back")]
    private partial void LogDeliveryRetry(Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconnected to {HubUrl}")]
    private partial void LogReconnected(Uri hubUrl);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ready will be sent once the connection is back: {Reason}")]
    private partial void LogReadyDeferred(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A report about job {JobId} did not reach the server")]
    private partial void LogReportFailed(Exception ex, Guid jobId);
}

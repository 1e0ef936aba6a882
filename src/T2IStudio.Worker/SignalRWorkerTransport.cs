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
/// The remote transport: a SignalR connection to the web app's <c>/hubs/workers</c>. It reconnects on its own
/// (saying Hello again with the same worker id, and Ready again when it was waiting), turns the server's
/// <c>Stop</c> into <see cref="LeasedJob.Stop"/>, and uploads images as one stream of 64 KiB chunks each.
/// </summary>
public sealed partial class SignalRWorkerTransport : IWorkerTransport, IAsyncDisposable
{
    private readonly HubConnection _connection;
    private readonly WorkerHello _hello;
    private readonly Uri _hubUrl;
    private readonly ILogger<SignalRWorkerTransport> _logger;
    private readonly TimeProvider _time;
    private readonly Channel<LeasedJob> _assigned = Channel.CreateUnbounded<LeasedJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, (LeasedJob Job, Guid LeaseId)> _held = new();
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ReconnectPolicy _reconnect = new();
    private int _waiting;
    private volatile bool _joined;
    private TimeSpan _heartbeatInterval = TimeSpan.FromSeconds(5);
    private TimeSpan _leaseTime = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A transport to <paramref name="hubUrl"/> presenting <paramref name="key"/>, announcing <paramref name="hello"/>;
    /// <paramref name="time"/> is the clock of the delivery deadline (the system clock when null).
    /// </summary>
    public SignalRWorkerTransport(Uri hubUrl, string key, WorkerHello hello, ILogger<SignalRWorkerTransport> logger, TimeProvider? time = null)
        : this(hubUrl, key, hello, logger, configure: null, time)
    {
    }

    /// <summary>As the public constructor; <paramref name="configure"/> adjusts the HTTP connection (tests: an in-memory server).</summary>
    internal SignalRWorkerTransport(Uri hubUrl, string key, WorkerHello hello, ILogger<SignalRWorkerTransport> logger, Action<Microsoft.AspNetCore.Http.Connections.Client.HttpConnectionOptions>? configure, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(hubUrl);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(hello);
        _hubUrl = hubUrl;
        _hello = hello;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _connection = new HubConnectionBuilder()
            .WithUrl(hubUrl, options =>
            {
                options.AccessTokenProvider = () => Task.FromResult<string?>(key);
                configure?.Invoke(options);
            })
            .WithAutomaticReconnect(_reconnect)
            .Build();
        _connection.On<JobAssignment>(WorkerHubNames.Assign, OnAssign);
        _connection.On<Guid>(WorkerHubNames.Stop, OnStop);
        _connection.Reconnecting += OnReconnecting;
        _connection.Reconnected += OnReconnectedAsync;
        _connection.Closed += OnClosed;
    }

    /// <inheritdoc />
    public TimeSpan HeartbeatInterval => _heartbeatInterval;

    /// <summary>
    /// Connects and says Hello, retrying with backoff (1 s doubling to 30 s) while the server cannot be reached;
    /// throws <see cref="WorkerKeyRefusedException"/> when it refuses the key.
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _connection.StartAsync(cancellationToken);
                break;
            }
            catch (HttpRequestException ex) when (ex.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new WorkerKeyRefusedException();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(attempt - 1, 5))));
                LogUnreachable(_hubUrl, attempt, ex.Message, delay.TotalSeconds);
                await Task.Delay(delay, _time, cancellationToken);
            }
        }
        await SayHelloAsync(cancellationToken);
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
        if (_reconnect.Refused || await _closed.Task is HttpRequestException { StatusCode: HttpStatusCode.Unauthorized })
        {
            throw new WorkerKeyRefusedException();
        }
        return null;
    }

    /// <inheritdoc />
    public Task ReportProgressAsync(LeasedJob job, int step, int totalSteps, byte[]? previewJpeg, CancellationToken cancellationToken) =>
        _connection.InvokeAsync<bool>(WorkerHubNames.Progress, job.JobId, LeaseOf(job), step, totalSteps, previewJpeg, cancellationToken);

    /// <inheritdoc />
    public Task<bool> HeartbeatAsync(LeasedJob job, CancellationToken cancellationToken) =>
        _connection.InvokeAsync<bool>(WorkerHubNames.Heartbeat, job.JobId, LeaseOf(job), cancellationToken);

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
            var receipt = await _connection.InvokeAsync<DeliveryReceipt>(
                WorkerHubNames.UploadImage, jobId, leaseId, image.BatchIndex, image.Seed, Chunks(image.Png, cancellationToken), cancellationToken);
            if (!receipt.Accepted)
            {
                return receipt;
            }
        }
        return await _connection.InvokeAsync<DeliveryReceipt>(WorkerHubNames.Complete, jobId, leaseId, modelHash, cancellationToken);
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
        Finish(job, leaseId => _connection.InvokeAsync<bool>(WorkerHubNames.Fail, job.JobId, leaseId, error, step, cancellationToken));

    /// <inheritdoc />
    public Task ReportStoppedAsync(LeasedJob job, int step, CancellationToken cancellationToken) =>
        Finish(job, leaseId => _connection.InvokeAsync<bool>(WorkerHubNames.Stopped, job.JobId, leaseId, step, cancellationToken));

    /// <inheritdoc />
    public Task ReleaseAsync(LeasedJob job, CancellationToken cancellationToken) =>
        Finish(job, leaseId => _connection.InvokeAsync<bool>(WorkerHubNames.Release, job.JobId, leaseId, cancellationToken));

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
        await _connection.DisposeAsync();
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

    private async Task SayHelloAsync(CancellationToken cancellationToken)
    {
        var welcome = await _connection.InvokeAsync<WorkerWelcome>(WorkerHubNames.Hello, _hello, cancellationToken);
        _heartbeatInterval = TimeSpan.FromSeconds(Math.Max(1, welcome.HeartbeatSeconds));
        _leaseTime = TimeSpan.FromSeconds(Math.Max(1, welcome.LeaseSeconds));
        _joined = true;
    }

    private async Task SendReadyAsync()
    {
        try
        {
            await _connection.InvokeAsync(WorkerHubNames.Ready);
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
            await _connection.InvokeAsync<bool>(WorkerHubNames.Release, assignment.JobId, assignment.LeaseId);
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

    private Task OnReconnecting(Exception? error)
    {
        _joined = false;
        LogReconnecting(error?.Message ?? "closed");
        return Task.CompletedTask;
    }

    private async Task OnReconnectedAsync(string? connectionId)
    {
        try
        {
            await SayHelloAsync(CancellationToken.None);
            LogReconnected();
            if (Volatile.Read(ref _waiting) == 1)
            {
                await SendReadyAsync();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogHelloFailed(ex);
        }
    }

    private Task OnClosed(Exception? error)
    {
        _closed.TrySetResult(error);
        return Task.CompletedTask;
    }

    /// <summary>Reconnects for ever (0, 1, 2, 5, then every 10 s), except after a 401: a revoked key stays revoked.</summary>
    private sealed class ReconnectPolicy : IRetryPolicy
    {
        private volatile bool _refused;

        /// <summary>A reconnect was refused with 401, and the policy gave up.</summary>
        public bool Refused => _refused;

        public TimeSpan? NextRetryDelay(RetryContext retryContext)
        {
            if (retryContext.RetryReason is HttpRequestException { StatusCode: HttpStatusCode.Unauthorized })
            {
                _refused = true;
                return null;
            }
            return retryContext.PreviousRetryCount switch
            {
                0 => TimeSpan.Zero,
                1 => TimeSpan.FromSeconds(1),
                2 => TimeSpan.FromSeconds(2),
                3 => TimeSpan.FromSeconds(5),
                _ => TimeSpan.FromSeconds(10),
            };
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot reach {HubUrl} (try {Attempt}): {Reason}; trying again in {Seconds} s")]
    private partial void LogUnreachable(Uri hubUrl, int attempt, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Took job {JobId} ({Model}, attempt {Attempt})")]
    private partial void LogAssigned(Guid jobId, string model, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handed job {JobId} back: this worker already runs one")]
    private partial void LogReturned(Guid jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "The server asked to stop job {JobId}")]
    private partial void LogStopping(Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection to the server ({Reason}); reconnecting")]
    private partial void LogReconnecting(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The images of job {JobId} did not get through ({Reason}); sending them again once the server is back")]
    private partial void LogDeliveryRetry(Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconnected to the server")]
    private partial void LogReconnected();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saying Hello again after a reconnect failed")]
    private partial void LogHelloFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ready will be sent once the connection is back: {Reason}")]
    private partial void LogReadyDeferred(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A report about job {JobId} did not reach the server")]
    private partial void LogReportFailed(Exception ex, Guid jobId);
}

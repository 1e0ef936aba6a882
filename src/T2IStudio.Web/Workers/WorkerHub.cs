using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Workers;

/// <summary>
/// <c>/hubs/workers</c>: where <c>T2IStudio.Worker</c> processes join with a worker key, lease jobs and report on
/// them. A worker says <see cref="Hello"/>, then <see cref="Ready"/> whenever it is idle; the server pushes
/// <c>Assign(JobAssignment)</c> when it has leased it a job, and <c>Stop(jobId)</c> to stop one. Images come back
/// as one client-to-server stream per image (<see cref="UploadImage"/>), then <see cref="Complete"/>. Every
/// report names the job and lease; the lifecycle refuses reports on jobs the worker does not hold.
/// </summary>
[Authorize(Policy = WorkerKeyAuthentication.Policy)]
public sealed partial class WorkerHub(
    JobLifecycle lifecycle,
    WorkerConnections connections,
    IOptionsMonitor<WorkersOptions> options,
    ILogger<WorkerHub> logger) : Hub
{
    /// <summary>The most images one job may deliver.</summary>
    public const int MaxBatch = 64;

    /// <inheritdoc />
    public override Task OnConnectedAsync()
    {
        var keyId = Context.User?.FindFirstValue(WorkerKeyAuthentication.KeyIdClaim)
            ?? throw new HubException(WorkerKeyAuthentication.RefusedMessage);
        connections.Add(Context, keyId);
        LogConnected(Context.ConnectionId, keyId);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        var reason = exception is null ? "it disconnected" : $"its connection was lost ({exception.Message})";
        await connections.RemoveAsync(Context.ConnectionId, reason);
    }

    /// <summary>The worker joins: what it is and which models it has. Say it first, and again after a reconnect.</summary>
    public WorkerWelcome Hello(WorkerHello hello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        var connection = Connection();
        if (Problem(hello) is { } problem)
        {
            LogHelloRefused(Context.ConnectionId, problem);
            throw new HubException(problem);
        }
        if (connection.Session is { } joined && joined.Id != hello.WorkerId.ToString("N"))
        {
            throw new HubException("This connection already joined as another worker.");
        }
        if (connection.Session is null)
        {
            try
            {
                connections.Join(connection, hello);
            }
            catch (InvalidOperationException ex)
            {
                LogHelloRefused(Context.ConnectionId, ex.Message);
                throw new HubException(ex.Message);
            }
        }
        var settings = options.CurrentValue;
        return new WorkerWelcome(settings.HeartbeatSeconds, settings.LeaseSeconds);
    }

    /// <summary>The worker is idle: lease it the next job it may run; it arrives as <c>Assign</c>.</summary>
    public void Ready() => connections.Ready(Connection(), Session());

    /// <summary>
    /// Companions for the job the worker holds: waiting jobs that can share its UNet calls, leased in fair order up
    /// to <paramref name="maxImages"/> images (<see cref="JobLifecycle.JoinBatchAsync"/>); empty when none.
    /// </summary>
    public async Task<JobAssignment[]> JoinBatch(Guid headJobId, Guid headLeaseId, int maxImages) =>
        maxImages is < 1 or > 64
            ? []
            : [.. await lifecycle.JoinBatchAsync(Session(), headJobId, headLeaseId, new BatchOffer(maxImages), Context.ConnectionAborted)];

    /// <summary>Steps finished, with a small JPEG preview now and then; false when the worker does not hold the job.</summary>
    public bool Progress(Guid jobId, Guid leaseId, int step, int totalSteps, byte[]? previewJpeg)
    {
        if (step < 0 || totalSteps <= 0 || step > totalSteps)
        {
            return false;
        }
        // The lifecycle drops a preview over JobLifecycle.MaxPreviewBytes; the progress still counts.
        return lifecycle.ReportProgress(Session(), jobId, leaseId, step, totalSteps, previewJpeg);
    }

    /// <summary>Extends the lease; false when the worker no longer holds the job.</summary>
    public Task<bool> Heartbeat(Guid jobId, Guid leaseId) => lifecycle.HeartbeatAsync(Session(), jobId, leaseId, Context.ConnectionAborted);

    /// <summary>
    /// One finished image of a job the worker holds, as a stream of chunks (at most 64 KiB each). Refused beyond
    /// <c>Workers:MaxImageMegabytes</c> for the image or <c>Workers:MaxDeliveryMegabytes</c> for the job.
    /// </summary>
    public async Task<DeliveryReceipt> UploadImage(Guid jobId, Guid leaseId, int batchIndex, ulong seed, IAsyncEnumerable<byte[]> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var connection = Connection();
        var session = Session();
        if (batchIndex is < 0 or >= MaxBatch)
        {
            return DeliveryReceipt.Refused($"Batch index {batchIndex} is out of range.");
        }
        // A beat doubles as the check that this worker holds the job, before a byte is buffered.
        if (!await lifecycle.HeartbeatAsync(session, jobId, leaseId, Context.ConnectionAborted))
        {
            return DeliveryReceipt.Refused("This worker does not hold that job.");
        }
        var maxImage = connections.MaxImageBytes;
        var room = connections.MaxDeliveryBytes - connection.BytesHeld(jobId, leaseId, batchIndex);
        using var buffer = new MemoryStream();
        await foreach (var chunk in chunks.WithCancellation(Context.ConnectionAborted))
        {
            if (chunk.Length > WorkerHubNames.ChunkBytes)
            {
                return Refuse(jobId, session, $"A chunk of image {batchIndex} is larger than {WorkerHubNames.ChunkBytes} bytes.");
            }
            if (buffer.Length + chunk.Length > maxImage)
            {
                return Refuse(jobId, session, $"Image {batchIndex} is larger than {maxImage / (1024 * 1024)} MiB.");
            }
            if (buffer.Length + chunk.Length > room)
            {
                return Refuse(jobId, session, $"The images of this job are larger than {connections.MaxDeliveryBytes / (1024 * 1024)} MiB together.");
            }
            buffer.Write(chunk);
        }
        connection.Keep(jobId, leaseId, new DeliveredImage(batchIndex, seed, buffer.ToArray()));
        return DeliveryReceipt.Stored;
    }

    /// <summary>Every image is uploaded: the server checks and stores them and completes the job.</summary>
    public Task<DeliveryReceipt> Complete(Guid jobId, Guid leaseId, string modelHash)
    {
        var session = Session();
        var images = Connection().Take(jobId, leaseId);
        return lifecycle.CompleteAsync(session, jobId, leaseId, modelHash ?? "", images, Context.ConnectionAborted);
    }

    /// <summary>The job failed on the worker; <paramref name="error"/> says why, for its owner.</summary>
    public Task<bool> Fail(Guid jobId, Guid leaseId, string error, int step)
    {
        // The lifecycle cuts a long message to JobLifecycle.MaxErrorLength.
        var message = string.IsNullOrWhiteSpace(error) ? "The worker reported a failure without a reason." : error.Trim();
        Discard(jobId, leaseId);
        return lifecycle.FailAsync(Session(), jobId, leaseId, message, Math.Max(step, 0), Context.ConnectionAborted);
    }

    /// <summary>The worker stopped the job after the server's <c>Stop</c>.</summary>
    public Task<bool> Stopped(Guid jobId, Guid leaseId, int step) =>
        Discard(jobId, leaseId).StoppedAsync(Session(), jobId, leaseId, Math.Max(step, 0), Context.ConnectionAborted);

    /// <summary>The worker is shutting down under the job: back in line, this attempt not counted.</summary>
    public Task<bool> Release(Guid jobId, Guid leaseId) =>
        Discard(jobId, leaseId).ReleaseAsync(Session(), jobId, leaseId, Context.ConnectionAborted);

    /// <summary>Images uploaded for a job that will not complete are not kept until the connection's next lease.</summary>
    private JobLifecycle Discard(Guid jobId, Guid leaseId)
    {
        Connection().Take(jobId, leaseId);
        return lifecycle;
    }

    private WorkerConnection Connection() =>
        connections.Find(Context.ConnectionId) ?? throw new HubException("This connection is closing.");

    private WorkerSession Session() =>
        Connection().Session ?? throw new HubException("Say Hello first.");

    private DeliveryReceipt Refuse(Guid jobId, WorkerSession session, string reason)
    {
        LogUploadRefused(jobId, session.Name, reason);
        return DeliveryReceipt.Refused(reason);
    }

    private static string? Problem(WorkerHello hello)
    {
        if (hello.WorkerId == Guid.Empty)
        {
            return "A worker id is required.";
        }
        if (string.IsNullOrWhiteSpace(hello.Name) || hello.Name.Length > 100)
        {
            return "A worker name of 1 to 100 characters is required.";
        }
        if (hello.Device is null || hello.Device.Length > 200 || hello.Version is null || hello.Version.Length > 100)
        {
            return "The device (200 characters at most) and version (100 at most) are required.";
        }
        if (hello.Models is null || hello.Models.Count > 200 || hello.Models.Any(m => string.IsNullOrWhiteSpace(m) || m.Length > 200))
        {
            return "The model list must hold at most 200 model ids.";
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "A worker connected ({ConnectionId}, key {KeyId})")]
    private partial void LogConnected(string connectionId, string keyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused the Hello of connection {ConnectionId}: {Problem}")]
    private partial void LogHelloRefused(string connectionId, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an image of job {JobId} from worker {Name}: {Reason}")]
    private partial void LogUploadRefused(Guid jobId, string name, string reason);
}

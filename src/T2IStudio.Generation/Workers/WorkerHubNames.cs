namespace T2IStudio.Generation.Workers;

/// <summary>
/// The names both ends of the <c>/hubs/workers</c> SignalR connection use: the hub's methods a worker invokes
/// and the handlers the server calls on a worker. Shared so a rename breaks the build, not a running worker.
/// </summary>
public static class WorkerHubNames
{
    /// <summary>Where the web app maps the hub.</summary>
    public const string Path = "/hubs/workers";

    /// <summary>Worker → server: <c>Hello(WorkerHello) → WorkerWelcome</c>, first after every (re)connect.</summary>
    public const string Hello = "Hello";

    /// <summary>Worker → server: <c>Ready()</c>, the worker is idle; the server leases it one job and pushes <see cref="Assign"/>.</summary>
    public const string Ready = "Ready";

    /// <summary>Worker → server: <c>Progress(jobId, leaseId, step, totalSteps, previewJpeg?) → bool</c>.</summary>
    public const string Progress = "Progress";

    /// <summary>Worker → server: <c>Heartbeat(jobId, leaseId) → bool</c>, false when the lease is gone.</summary>
    public const string Heartbeat = "Heartbeat";

    /// <summary>
    /// Worker → server: <c>UploadImage(jobId, leaseId, batchIndex, seed, stream of byte[] chunks) → DeliveryReceipt</c>,
    /// one call per image, chunks of at most <see cref="ChunkBytes"/>.
    /// </summary>
    public const string UploadImage = "UploadImage";

    /// <summary>Worker → server: <c>Complete(jobId, leaseId, modelHash) → DeliveryReceipt</c>, after every image is uploaded.</summary>
    public const string Complete = "Complete";

    /// <summary>Worker → server: <c>Fail(jobId, leaseId, error, step) → bool</c>.</summary>
    public const string Fail = "Fail";

    /// <summary>Worker → server: <c>Stopped(jobId, leaseId, step) → bool</c>, after the server said <see cref="Stop"/>.</summary>
    public const string Stopped = "Stopped";

    /// <summary>Worker → server: <c>Release(jobId, leaseId) → bool</c>, the worker is shutting down under the job.</summary>
    public const string Release = "Release";

    /// <summary>
    /// Worker → server: <c>JoinBatch(headJobId, headLeaseId, maxImages) → JobAssignment[]</c>, companions leased beside
    /// the job it holds, to run in the same UNet calls (cross-user batching); each under its own lease.
    /// </summary>
    public const string JoinBatch = "JoinBatch";

    /// <summary>Server → worker: <c>Assign(JobAssignment)</c>, a job leased to it after <see cref="Ready"/>.</summary>
    public const string Assign = "Assign";

    /// <summary>Server → worker: <c>Stop(jobId)</c>, stop that job before its next step.</summary>
    public const string Stop = "Stop";

    /// <summary>The largest chunk of an uploaded image, in bytes.</summary>
    public const int ChunkBytes = 64 * 1024;
}

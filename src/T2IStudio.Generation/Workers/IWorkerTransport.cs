namespace T2IStudio.Generation.Workers;

/// <summary>
/// How a worker talks to the server that owns the queue: ask for work, report progress, deliver, fail, beat.
/// The in-process transport calls the job lifecycle directly; the remote one speaks to the web app's
/// <c>/hubs/workers</c> SignalR hub. A worker runs one batch at a time: a head job from <see cref="NextJobAsync"/> and the companions <see cref="JoinBatchAsync"/> leased beside it, and reports on each job under its own lease.
/// </summary>
public interface IWorkerTransport
{
    /// <summary>How often <see cref="HeartbeatAsync"/> is called while a job runs.</summary>
    TimeSpan HeartbeatInterval { get; }

    /// <summary>Waits for the next job this worker may run; null when the transport is closing.</summary>
    Task<LeasedJob?> NextJobAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Leases more waiting jobs that can share <paramref name="head"/>'s UNet calls (the same
    /// <see cref="Pipelines.BatchKey"/>), taken in fair order, up to <paramref name="offer"/>'s room; each comes
    /// under its own lease and is reported on on its own. Empty when none waits (or the server does not batch).
    /// </summary>
    Task<IReadOnlyList<LeasedJob>> JoinBatchAsync(LeasedJob head, BatchOffer offer, CancellationToken cancellationToken);

    /// <summary>Steps finished, with a small JPEG preview now and then (the loop throttles both).</summary>
    Task ReportProgressAsync(LeasedJob job, int step, int totalSteps, byte[]? previewJpeg, CancellationToken cancellationToken);

    /// <summary>Extends the lease on <paramref name="job"/>; false when the server no longer holds it for this worker.</summary>
    Task<bool> HeartbeatAsync(LeasedJob job, CancellationToken cancellationToken);

    /// <summary>Hands over the finished images; the server checks and stores them and completes the job.</summary>
    Task<DeliveryReceipt> DeliverAsync(LeasedJob job, string modelHash, IReadOnlyList<DeliveredImage> images, CancellationToken cancellationToken);

    /// <summary>The job failed on this worker; <paramref name="error"/> says why, in words for its owner.</summary>
    Task ReportFailureAsync(LeasedJob job, string error, int step, CancellationToken cancellationToken);

    /// <summary>The job stopped because <see cref="LeasedJob.Token"/> was cancelled (a cancel, the time limit, a lost lease).</summary>
    Task ReportStoppedAsync(LeasedJob job, int step, CancellationToken cancellationToken);

    /// <summary>This worker is shutting down under the job: it goes back in line, this attempt not counted.</summary>
    Task ReleaseAsync(LeasedJob job, CancellationToken cancellationToken);
}

/// <summary>A job this worker holds a lease on, and the token that stops it.</summary>
public sealed class LeasedJob : IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Wraps <paramref name="assignment"/>.</summary>
    public LeasedJob(JobAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        Assignment = assignment;
    }

    /// <summary>What to run.</summary>
    public JobAssignment Assignment { get; }

    /// <summary>The job.</summary>
    public Guid JobId => Assignment.JobId;

    /// <summary>Cancelled when the server says stop: its owner cancelled, it ran past the time limit, or the lease is gone.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>Steps finished so far.</summary>
    public int Step { get; set; }

    /// <summary>Stops the job before its next step; safe to call more than once, or after it ended.</summary>
    public void Stop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It ended between the lookup and the stop.
        }
    }

    /// <inheritdoc />
    public void Dispose() => _stop.Dispose();
}

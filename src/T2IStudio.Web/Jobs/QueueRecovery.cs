using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Images;
using T2IStudio.Web.Storage;


namespace T2IStudio.Web.Jobs;

/// <summary>What one recovery did.</summary>
/// <param name="Requeued">Jobs a crash left running that run once more.</param>
/// <param name="Interrupted">Jobs a crash left running for the second time, now failed as interrupted.</param>
/// <param name="Waiting">Jobs waiting after it (the re-queued ones included).</param>
/// <param name="OrphansRemoved">Files no row named, removed.</param>
public sealed record RecoveryReport(int Requeued, int Interrupted, int Waiting, int OrphansRemoved);

/// <summary>
/// Puts the queue back together after a stop or a crash, as the host starts: a job this node's in-process worker
/// left running runs once more (a second interruption fails it) and files without a row are removed. Waiting jobs
/// need nothing: the line is the database. A job a remote worker holds keeps its lease: the worker may still be
/// running it and reconnect; if it does not, the lease runs out and the sweeper re-queues it. It is a hosted service registered before the worker and before the server (ASP.NET Core starts
/// the server after every hosted service the app registers), so it finishes before any request is served or any
/// job runs: in .NET 10 a <see cref="BackgroundService"/> no longer holds up start-up, so the worker cannot do it.
/// </summary>
/// <remarks>
/// It runs only where the worker runs (<see cref="QueueOptions.RunWorker"/>): a web-only node cannot know whether
/// a running job is still being run elsewhere, nor whether a file without a row is another process's write in
/// flight, so it touches neither. A failure is logged and shown on the Admin page; the app keeps serving.
/// </remarks>
public sealed partial class QueueRecovery(
    IDbContextFactory<AppDbContext> dbFactory,
    ImageStore store,
    IHostEnvironment environment,
    IOptions<QueueOptions> options,
    IOptions<ClusterOptions> cluster,
    IOptions<DatabaseOptions> database,
    TimeProvider time,
    Telemetry.StudioMetrics metrics,
    ILogger<QueueRecovery> logger) : IHostedService
{
    /// <summary>How old a file without a row must be before a node that may share its storage root removes it.</summary>
    public static readonly TimeSpan SharedRootGrace = TimeSpan.FromMinutes(10);

    /// <summary>What the start-up recovery did, once it has run.</summary>
    public RecoveryReport? LastReport { get; private set; }

    /// <summary>Why the start-up recovery failed, in words for an admin; null when it did not.</summary>
    public string? Problem { get; private set; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.RunWorker)
        {
            LogSkipped();
            return;
        }
        try
        {
            LastReport = await RecoverAsync(cancellationToken);
            LogRecoveredQueue(LastReport.Requeued, LastReport.Interrupted, LastReport.Waiting, LastReport.OrphansRemoved);
            metrics.JobEnded(Telemetry.JobEndReason.Interrupted, LastReport.Interrupted);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // the host is being stopped while it starts
        }
        catch (Exception ex)
        {
            // A broken row or an unreadable folder must not keep everyone out: serve, and tell the admin.
            Problem = $"Start-up recovery failed ({ex.GetType().Name}: {ex.Message}). Jobs left running or waiting before the restart may not run, and orphan files were not removed; restart the app once the cause is fixed.";
            LogRecoveryFailed(ex);
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Recovers the queue now: this node's running jobs back in line once (then failed as interrupted), orphan
    /// files written before this call removed. Call before the worker runs.
    /// </summary>
    public async Task<RecoveryReport> RecoverAsync(CancellationToken cancellationToken = default)
    {
        // Files are judged by the file system's clock (their write times), not the app's injected one (which tests may fake).
        var startedAt = TimeProvider.System.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        int requeued = 0, interrupted = 0;
        var ownWorker = GenerationWorker.InProcessWorkerId(environment.ContentRootPath, cluster.Value.NodeName).ToString("N");
        DateTimeOffset? nowOrNull = now;
        var orphaned = await db.Jobs
            .Where(j => j.Status == JobStatus.Running
                && (j.LeaseWorkerId == null || j.LeaseWorkerId == ownWorker || j.LeaseExpiresAt == null || j.LeaseExpiresAt <= nowOrNull))
            .ToListAsync(cancellationToken);
        foreach (var job in orphaned)
        {
            if (job.CancelRequested)
            {
                // Its owner asked it to stop before the crash: it ends as they asked, it does not run again.
                job.Status = JobStatus.Canceled;
                job.FinishedAt = now;
            }
            else if (job.Attempts >= 2)
            {
                job.Status = JobStatus.Failed;
                job.Error = JobLifecycle.InterruptedError;
                job.FinishedAt = now;
                interrupted++;
            }
            else
            {
                job.Status = JobStatus.Queued;
                requeued++;
            }
            job.Step = 0;
            job.LeaseId = null;
            job.LeaseWorkerId = null;
            job.LeaseExpiresAt = null;
            job.ConcurrencyStamp = Guid.NewGuid();
            LogRecovered(job.Id, job.Status);
        }
        await db.SaveChangesAsync(cancellationToken);
        foreach (var failed in db.ChangeTracker.Entries<Job>().Where(e => e.Entity.Status is JobStatus.Failed or JobStatus.Canceled).Select(e => e.Entity.Id).ToList())
        {
            await ImageLibrary.ReleaseInpaintFilesAsync(db, store, failed, cancellationToken);
        }

        var waiting = await db.Jobs.CountAsync(j => j.Status == JobStatus.Queued, cancellationToken);

        // Every file a row names: images, their masks, and the sources and masks of inpainting jobs.
        var referenced = new HashSet<Guid>(await db.Images.Select(i => i.FileKey).ToListAsync(cancellationToken));
        referenced.UnionWith(await db.Images.Where(i => i.MaskFileKey != null).Select(i => i.MaskFileKey!.Value).ToListAsync(cancellationToken));
        referenced.UnionWith(await db.Jobs.Where(j => j.SourceFileKey != null).Select(j => j.SourceFileKey!.Value).ToListAsync(cancellationToken));
        referenced.UnionWith(await db.Jobs.Where(j => j.MaskFileKey != null).Select(j => j.MaskFileKey!.Value).ToListAsync(cancellationToken));
        // Where other nodes may share this Storage:Root, a file written shortly before this start may be another
        // node's write whose row is not committed yet: only files older than any write in flight are judged.
        var sharedRoot = cluster.Value.IsShared || database.Value.Engine == DatabaseProvider.Postgres;
        var swept = store.SweepOrphans(referenced, sharedRoot ? startedAt - SharedRootGrace : startedAt);
        return new RecoveryReport(requeued, interrupted, waiting, swept);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} was running when the server stopped; now {Status}")]
    private partial void LogRecovered(Guid jobId, JobStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue recovered: {Requeued} re-queued, {Interrupted} failed as interrupted, {Waiting} waiting, {Orphans} orphan file(s) removed")]
    private partial void LogRecoveredQueue(int requeued, int interrupted, int waiting, int orphans);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue recovery skipped: this node runs no worker (Queue:RunWorker=false)")]
    private partial void LogSkipped();

    [LoggerMessage(Level = LogLevel.Error, Message = "Start-up recovery of the queue failed; the app serves on without it")]
    private partial void LogRecoveryFailed(Exception ex);
}

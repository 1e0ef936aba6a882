using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Access;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Images;
using T2IStudio.Web.Prompts;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Jobs;

/// <summary>
/// The one owner of a job's life: queue, lease to a worker, progress, complete with images, fail, cancel, lease
/// loss and the per-job time limit. Every transition is a conditional update of the job's row (its status and
/// lease), so any number of workers and nodes agree, and the concurrency stamp is bumped here and nowhere else.
/// The fair order is read from the database (<see cref="FairOrder"/>); a worker, in process or remote, only runs
/// what it is given and can report only on the lease it holds.
/// </summary>
public sealed partial class JobLifecycle(
    IDbContextFactory<AppDbContext> dbFactory,
    StudioNotifier notifier,
    EventAudience audience,
    GalleryAccess galleries,
    ImageStore store,
    WorkerRegistry registry,
    WorkerDirectory directory,
    ModelHost models,
    TeamActivityLog activity,
    IOptions<QueueOptions> queueOptions,
    IOptions<WorkersOptions> workerOptions,
    IClusterBus cluster,
    TimeProvider time,
    Telemetry.StudioMetrics metrics,
    ILogger<JobLifecycle> logger) : IDisposable
{
    /// <summary>The message a job gets when the server stopped under it twice.</summary>
    public const string InterruptedError = "Interrupted: the server stopped while this job ran, twice. Submit it again.";

    /// <summary>The message a job gets when two workers were lost under it.</summary>
    public const string LostTwiceError = "Two workers stopped while running this job (they disconnected or stopped answering). Submit it again; if it keeps happening, tell an admin.";

    /// <summary>The longest failure message a worker may set, in characters.</summary>
    public const int MaxErrorLength = 500;

    /// <summary>The largest preview passed on to pages, in bytes (a worker's previews are 64 KB at most).</summary>
    public const int MaxPreviewBytes = 128 * 1024;

    /// <summary>How often a waiting worker looks for work even when nothing told it to (jobs queued by another node).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>The message a job gets when its worker's images failed the server's checks.</summary>
    public static string RefusedImagesError(string problem) =>
        $"The worker's images failed the server's checks ({problem}) and were not stored. Submit it again; if it keeps happening, tell an admin.";

    /// <summary>The message a job gets when it ran past <see cref="QueueOptions.MaxJobMinutes"/>.</summary>
    public static string TimeLimitError(int minutes) =>
        $"Stopped after {minutes} minute{(minutes == 1 ? "" : "s")}: the per-job limit (Queue:MaxJobMinutes).";

    private readonly ConcurrentDictionary<Guid, HeldJob> _held = new();
    private readonly ConcurrentDictionary<string, long> _workerModelSeenAt = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _leaseGate = new(1, 1);
    private readonly Lock _signalGate = new();
    private TaskCompletionSource _workSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private QueueSnapshot? _snapshot;
    private int _snapshotVersion;

    private IDisposable? _queueSignals;

    // ----- Queue ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Writes <paramref name="row"/> as a queued job of <paramref name="userId"/> unless their quota is full, in one
    /// write transaction with the quota count (parallel submits of one person cannot all pass it). A repeated key
    /// returns the first job. The prompt history keeps <paramref name="ownPrompt"/> and <paramref name="ownNegativePrompt"/>:
    /// what the person wrote, before a style expanded it (so reusing it with the style chosen does not apply it twice);
    /// a null <paramref name="ownPrompt"/> records nothing (an upscale repeats someone's earlier prompt, not a new one).
    /// </summary>
    public async Task<SubmitResult> QueueAsync(string userId, Job row, string? idempotencyKey, string? ownPrompt, string ownNegativePrompt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentNullException.ThrowIfNull(row);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // SQLite's BEGIN IMMEDIATE, or PostgreSQL's queue lock: the count and the insert are one step for every node.
        await using var transaction = await db.Database.BeginWriteTransactionAsync(WriteScope.Queue, cancellationToken);
        if (idempotencyKey is { } key && await FindByKeyAsync(db, userId, key, cancellationToken) is { } existing)
        {
            return new SubmitResult(existing, []);
        }
        var limit = queueOptions.Value.MaxQueuedPerUser;
        var active = await db.Jobs.CountAsync(j => j.OwnerId == userId && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running), cancellationToken);
        if (active >= limit)
        {
            return new SubmitResult(null, [$"You have {active} jobs waiting or running, the most allowed is {limit}. Cancel one or wait for one to finish."]);
        }
        if (row.ApiTokenId is { } tokenId)
        {
            var tokenLimit = queueOptions.Value.MaxQueuedPerToken;
            var byToken = await db.Jobs.CountAsync(j => j.ApiTokenId == tokenId && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running), cancellationToken);
            if (byToken >= tokenLimit)
            {
                return new SubmitResult(null, [$"This token has {byToken} jobs waiting or running, the most allowed is {tokenLimit}. Wait for one to finish."]);
            }
        }
        // A job saving into a team gallery draws on that team: its models and daily budget, read and counted under the
        // same lock as the insert.
        row.TeamId = row.GalleryId is { } galleryId
            ? await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => g.TeamId).SingleOrDefaultAsync(cancellationToken)
            : null;
        if (row.TeamId is { } teamId && await TeamLimits.RefusalAsync(db, teamId, row.Model, row.BatchSize, time.GetUtcNow(), cancellationToken) is { } refusal)
        {
            return new SubmitResult(null, [refusal]);
        }
        var now = time.GetUtcNow();
        var prompt = ownPrompt is null ? null : await PromptHistory.RecordAsync(db, userId, ownPrompt, ownNegativePrompt, now, cancellationToken);
        row.OwnerId = userId;
        row.Status = JobStatus.Queued;
        row.IdempotencyKey = idempotencyKey;
        row.CreatedAt = now;
        row.PromptId = prompt?.Id;
        row.ConcurrencyStamp = Guid.NewGuid();
        db.Jobs.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException) when (idempotencyKey is { } racedKey)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            // A second click raced this one past the lookup; the unique key kept one job. Return it.
            await using var fresh = await dbFactory.CreateDbContextAsync(cancellationToken);
            if (await FindByKeyAsync(fresh, userId, racedKey, cancellationToken) is { } winner)
            {
                return new SubmitResult(winner, []);
            }
            throw;
        }
        QueueChanged();
        notifier.Publish(new JobQueued(row.Id, userId));
        return new SubmitResult(row.Id, []);
    }

    /// <summary>
    /// Cancels <paramref name="jobId"/> (the caller has checked who may): a waiting job ends now; a running one is
    /// marked and its worker told to stop before its next step, and it ends when the worker says it stopped.
    /// </summary>
    public async Task<CancelOutcome> CancelAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
            switch (job?.Status)
            {
                case null:
                    return CancelOutcome.NotFound;
                case JobStatus.Queued:
                    job.Status = JobStatus.Canceled;
                    job.FinishedAt = time.GetUtcNow();
                    job.ConcurrencyStamp = Guid.NewGuid();
                    try
                    {
                        await db.SaveChangesAsync(cancellationToken);
                    }
                    catch (DbUpdateConcurrencyException)
                    {
                        // A worker took it meanwhile: read it again and stop the run instead.
                        db.ChangeTracker.Clear();
                        continue;
                    }
                    QueueChanged();
                    metrics.JobEnded(JobStatus.Canceled, null);
                    notifier.Publish(new JobCanceled(jobId, job.OwnerId));
                    // It never ran and never will: an inpainting job's source and mask go with it.
                    await ReleaseInpaintFilesAsync(jobId);
                    return CancelOutcome.Canceled;
                case JobStatus.Running:
                    var leaseId = job.LeaseId;
                    var marked = await db.Jobs
                        .Where(j => j.Id == jobId && j.Status == JobStatus.Running && j.LeaseId == leaseId)
                        .ExecuteUpdateAsync(s => s.SetProperty(j => j.CancelRequested, true), cancellationToken);
                    if (marked == 0)
                    {
                        db.ChangeTracker.Clear();
                        continue;
                    }
                    if (_held.TryGetValue(jobId, out var held) && held.LeaseId == leaseId)
                    {
                        await StopHeldAsync(held, StopReason.Canceled);
                    }
                    // Held by a worker on another node: that node's sweep reads the mark and tells its worker.
                    return CancelOutcome.Stopping;
                default:
                    return CancelOutcome.AlreadyFinished;
            }
        }
        return CancelOutcome.AlreadyFinished;
    }

    // ----- Leases --------------------------------------------------------------------------------------------

    /// <summary>Waits until a job <paramref name="worker"/> may run is leased to it, in fair order.</summary>
    public async Task<JobAssignment> LeaseNextAsync(WorkerSession worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ListenToOtherNodes();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // An idle worker beats by waiting here: its connection is alive while this runs (Admin → Workers' "last heartbeat").
            worker.Beat(time.GetUtcNow());
            var signal = WorkSignal();
            try
            {
                if (await TryLeaseAsync(worker, cancellationToken) is { } assignment)
                {
                    return assignment;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                // The database is locked or gone for a moment: the worker waits and asks again, it does not die.
                LogLeaseFailed(ex, worker.Name);
                await Task.Delay(PollInterval, time, cancellationToken);
                continue;
            }
            await Task.WhenAny(signal, Task.Delay(PollInterval, time, cancellationToken));
        }
    }

    /// <summary>Leases the next job <paramref name="worker"/> may run, or null when there is none now.</summary>
    public async Task<JobAssignment?> TryLeaseAsync(WorkerSession worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (worker.IsBusy)
        {
            return null; // one job at a time per worker
        }
        await _leaseGate.WaitAsync(cancellationToken);
        try
        {
            for (var tries = 0; tries < 5; tries++)
            {
                var order = await FairOrder.ReadAsync(dbFactory, cancellationToken);
                var candidates = order.Waiting.Where(j => j.RunsOn(worker.Models)).ToList();
                if (candidates.Count == 0)
                {
                    return null;
                }
                var (outcome, assignment) = await LeaseFirstFreeAsync(worker, candidates, cancellationToken);
                if (outcome == LeaseOutcome.NoneFree)
                {
                    return null;
                }
                if (outcome == LeaseOutcome.Retry)
                {
                    continue;
                }
                return assignment;
            }
            return null;
        }
        finally
        {
            _leaseGate.Release();
        }
    }

    /// <summary>
    /// Leases companions for the job <paramref name="worker"/> holds (cross-user batching): waiting jobs with the head's
    /// <see cref="BatchKey"/> that the worker can run, taken in fair order while their images fit
    /// <paramref name="offer"/>, each under its own lease exactly as <see cref="TryLeaseAsync"/> leases one. Companions
    /// join only as a batch forms, never mid-run, so filling a batch never delays the head (it is already leased) and a
    /// job passed over waits at most one batch. Empty when the head is not held under that lease, never batches, or
    /// no companion waits.
    /// </summary>
    public async Task<IReadOnlyList<JobAssignment>> JoinBatchAsync(WorkerSession worker, Guid headJobId, Guid headLeaseId, BatchOffer offer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(offer);
        if (offer.MaxImages <= 0 || !TryHeld(worker, headJobId, headLeaseId, out var head))
        {
            return [];
        }
        await _leaseGate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var headRow = await db.Jobs.AsNoTracking().Where(j => j.Id == headJobId)
                .Select(j => new { j.RequestJson, j.SourceFileKey }).SingleOrDefaultAsync(cancellationToken);
            if (headRow is null || GenerationMetadata.ReadStoredRequest(headRow.RequestJson) is not { } headStored
                || BatchKey.Of(headStored, headRow.SourceFileKey is not null) is not { } key)
            {
                return [];
            }
            var order = await FairOrder.ReadAsync(dbFactory, cancellationToken);
            var candidates = order.Waiting.Where(j => j.Model == key.Model && j.Upscaler is null && j.RunsOn(worker.Models)
                && j.Shape.Steps == key.Steps && j.Shape.Guided == key.Guided && j.Shape.BatchSize <= offer.MaxImages).ToList();
            if (candidates.Count == 0)
            {
                metrics.BatchFormed(key.Model, head.BatchSize, head.BatchSize + offer.MaxImages); // room went unused
                return [];
            }
            var ids = candidates.Select(j => j.Id).ToList();
            var rows = await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id))
                .Select(j => new { j.Id, j.RequestJson, j.SourceFileKey }).ToListAsync(cancellationToken);
            var keys = rows.ToDictionary(r => r.Id, r => GenerationMetadata.ReadStoredRequest(r.RequestJson) is { } stored ? BatchKey.Of(stored, r.SourceFileKey is not null) : null);
            var room = offer.MaxImages;
            var taken = new List<JobAssignment>();
            // One answer carries every companion's source and mask PNGs: once they reach Workers:MaxImageMegabytes,
            // the batch is complete (the rest wait for the next one): a soft limit, an answer holds at most that plus one job's files.
            var bytesLeft = workerOptions.Value.MaxImageMegabytes * 1024L * 1024L;
            foreach (var candidate in candidates)
            {
                if (candidate.Shape.BatchSize > room || keys.GetValueOrDefault(candidate.Id) != key)
                {
                    continue;
                }
                var (outcome, assignment) = await LeaseFirstFreeAsync(worker, [candidate], cancellationToken);
                if (outcome == LeaseOutcome.Leased && assignment is not null)
                {
                    taken.Add(assignment);
                    room -= candidate.Shape.BatchSize;
                    bytesLeft -= (assignment.SourcePng?.LongLength ?? 0) + (assignment.MaskPng?.LongLength ?? 0);
                    if (room == 0 || bytesLeft <= 0)
                    {
                        break;
                    }
                }
            }
            var images = head.BatchSize + offer.MaxImages - room;
            metrics.BatchFormed(key.Model, images, head.BatchSize + offer.MaxImages);
            if (taken.Count > 0)
            {
                // Members share size and steps, so a member's part of the batch's work is its part of the images: its
                // measured speed and pace count that part of the run's time only.
                foreach (var member in taken.Select(a => _held.TryGetValue(a.JobId, out var h) ? h : null).OfType<HeldJob>().Append(head))
                {
                    member.BatchShare = (double)member.BatchSize / images;
                }
                LogBatchFormed(headJobId, worker.Name, taken.Count, images);
            }
            return taken;
        }
        finally
        {
            _leaseGate.Release();
        }
    }

    private enum LeaseOutcome
    {
        Leased,
        NoneFree,
        Retry,
    }

    // Leases the first of candidates (in their order) that is still queued, to worker: the row under a new lease, the
    // job held here, its owner told. NoneFree when every candidate is taken (or being taken by another node); Retry
    // when the one tried was cancelled or taken since the order was read, or its source is gone.
    private async Task<(LeaseOutcome Outcome, JobAssignment? Assignment)> LeaseFirstFreeAsync(WorkerSession worker, List<QueuedJob> candidates, CancellationToken cancellationToken)
    {
        var leaseId = Guid.NewGuid();
        var now = time.GetUtcNow();
        DateTimeOffset? expires = now.AddSeconds(workerOptions.Value.LeaseSeconds);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        QueuedJob? next;
        int taken;
        if (db.Database.IsNpgsql())
        {
            // Nodes lease side by side: each locks the first candidate (in fair order) that is still queued and
            // not locked by another node's lease in progress, and takes it in the same transaction.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var ids = candidates.Select(j => j.Id).ToArray();
            var free = await db.Database.SqlQuery<Guid>($"""
                SELECT "Id" AS "Value" FROM "Jobs" WHERE "Id" = ANY({ids}) AND "Status" = {(int)JobStatus.Queued}
                ORDER BY array_position({ids}, "Id") LIMIT 1 FOR UPDATE SKIP LOCKED
                """).ToListAsync(cancellationToken);
            next = candidates.Find(j => free.Contains(j.Id));
            if (next is null)
            {
                return (LeaseOutcome.NoneFree, null); // every candidate is taken or being taken by another node
            }
            taken = await TakeAsync(db, next.Id, leaseId, worker, now, expires, cancellationToken);
            // Not the caller's token: a commit cancelled in flight may still land, leaving a lease no one holds.
            await transaction.CommitAsync(CancellationToken.None);
        }
        else
        {
            next = candidates[0];
            taken = await TakeAsync(db, next.Id, leaseId, worker, now, expires, cancellationToken);
        }
        if (taken == 0)
        {
            return (LeaseOutcome.Retry, null); // cancelled, or taken by another node, since the order was read
        }
        // The row is this worker's now: finish the lease whatever the caller's token says, or undo it.
        Job job;
        JobAssignment? assignment;
        HeldJob held;
        try
        {
            job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == next.Id, CancellationToken.None);
            assignment = await AssignmentOfAsync(job, leaseId, CancellationToken.None);
            if (assignment is null)
            {
                return (LeaseOutcome.Retry, null); // its source or mask is gone: failed with that reason; take the next
            }
            held = new HeldJob(job, leaseId, worker, await audience.OfJobAsync(job.OwnerId, job.GalleryId, CancellationToken.None), OutputSize(job, assignment.SourcePng));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogLeaseFailed(ex, worker.Name);
            await RequeueAsync(next.Id, leaseId, [], worker.Name);
            throw;
        }
        _held[job.Id] = held;
        metrics.JobLeased(job, now);
        worker.Hold(job.Id); // the head, or a companion beside the job it already runs
        worker.Beat(now);
        QueueChanged();
        registry.RaiseChanged();
        LogLeased(job.Id, worker.Name, worker.Id, job.Attempts);
        Tell(held, to => new JobStarted(job.Id, to));
        return (LeaseOutcome.Leased, assignment);
    }

    // Queued → Running under a new lease; 0 when the job is no longer queued.
    private static Task<int> TakeAsync(AppDbContext db, Guid jobId, Guid leaseId, WorkerSession worker, DateTimeOffset now, DateTimeOffset? expires, CancellationToken cancellationToken) =>
        db.Jobs
            .Where(j => j.Id == jobId && j.Status == JobStatus.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Running)
                .SetProperty(j => j.LeaseId, leaseId)
                .SetProperty(j => j.LeaseWorkerId, worker.Id)
                .SetProperty(j => j.LeaseExpiresAt, expires)
                .SetProperty(j => j.WorkerName, worker.Name)
                .SetProperty(j => j.CancelRequested, false)
                .SetProperty(j => j.Attempts, j => j.Attempts + 1)
                .SetProperty(j => j.StartedAt, now)
                .SetProperty(j => j.Step, 0)
                .SetProperty(j => j.ConcurrencyStamp, Guid.NewGuid()), cancellationToken);

    /// <summary>Steps finished on a job <paramref name="worker"/> holds; false when it does not hold it.</summary>
    public bool ReportProgress(WorkerSession worker, Guid jobId, Guid leaseId, int step, int totalSteps, byte[]? previewJpeg)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (!TryHeld(worker, jobId, leaseId, out var held))
        {
            return false;
        }
        held.Step = Math.Clamp(step, 0, held.TotalSteps);
        worker.SetStep(jobId, held.Step);
        if (previewJpeg is { Length: > MaxPreviewBytes })
        {
            previewJpeg = null; // a preview is a courtesy: an oversized one is dropped, not forwarded
        }
        if (previewJpeg is not null)
        {
            held.LastPreviewJpeg = previewJpeg;
        }
        Tell(held, to => new JobProgress(jobId, to, held.Step, held.TotalSteps, previewJpeg));
        registry.RaiseChanged();
        return true;
    }

    /// <summary>Extends the lease of a job <paramref name="worker"/> holds; false when it no longer holds it.</summary>
    public async Task<bool> HeartbeatAsync(WorkerSession worker, Guid jobId, Guid leaseId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var now = time.GetUtcNow();
        worker.Beat(now);
        if (!TryHeld(worker, jobId, leaseId, out var held))
        {
            // A web restart: the worker kept running the job and reconnected; take its lease back if it is still its own.
            if (await AdoptAsync(worker, jobId, leaseId, cancellationToken) is not { } adopted)
            {
                return false;
            }
            held = adopted;
        }
        DateTimeOffset? expires = now.AddSeconds(workerOptions.Value.LeaseSeconds);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var extended = await db.Jobs
            .Where(j => j.Id == jobId && j.LeaseId == leaseId && j.Status == JobStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseExpiresAt, expires), cancellationToken);
        if (extended == 0)
        {
            _held.TryRemove(new KeyValuePair<Guid, HeldJob>(jobId, held));
            ClearWorker(held);
            return false;
        }
        registry.RaiseChanged();
        return true;
    }

    /// <summary>
    /// Checks and stores the images of a job <paramref name="worker"/> holds and completes it: the right number,
    /// each a PNG of the job's size that decodes through the restricted intake. Refused otherwise, and the job
    /// stays with the worker's lease (it may fail it, or lose it).
    /// </summary>
    public async Task<DeliveryReceipt> CompleteAsync(WorkerSession worker, Guid jobId, Guid leaseId, string modelHash, IReadOnlyList<DeliveredImage> images, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(images);
        if (!TryHeld(worker, jobId, leaseId, out var held))
        {
            return DeliveryReceipt.Refused("This worker does not hold that job.");
        }
        if (images.Count == 0)
        {
            // Nothing arrived (the uploads went over a connection that has since closed): the worker may send them again.
            return DeliveryReceipt.Refused("No images arrived for this job; upload them again, then complete.");
        }
        if (CheckDelivery(held, images) is { } problem)
        {
            // A worker that sends the wrong images will not send the right ones on a second try: the job ends here.
            LogDeliveryRefused(jobId, worker.Name, problem);
            worker.CountFailed();
            await EndAsync(held, JobStatus.Failed, RefusedImagesError(problem), held.Step);
            return DeliveryReceipt.Refused(problem);
        }
        var hash = SafeModelHash(modelHash);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job is not { Status: JobStatus.Running } || job.LeaseId != leaseId)
        {
            ForgetHeld(held);
            return DeliveryReceipt.Refused("This worker does not hold that job.");
        }
        var stored = GenerationMetadata.ReadStoredRequest(job.RequestJson);
        if (stored is null)
        {
            await EndAsync(held, JobStatus.Failed, "The stored request could not be read.", held.Step);
            return DeliveryReceipt.Refused("The stored request could not be read.");
        }

        var files = new List<Guid>();
        try
        {
            var now = time.GetUtcNow();
            foreach (var image in images.OrderBy(i => i.BatchIndex))
            {
                var pixels = image.Pixels ?? ImageIntake.Read(image.Png, IntakeOptions.StoredPng with { ExpectedSize = held.OutputSize }, CancellationToken.None).Image;
                // A hires fix records its first pass's size and an upscale its source's (A1111's "Size"); the rest their own.
                var keepsSize = stored.Hires is not null || stored.Upscale is not null;
                var described = stored with
                {
                    Seed = stored.Seed + (ulong)image.BatchIndex,
                    BatchSize = null,
                    Width = keepsSize ? stored.Width : pixels.Width,
                    Height = keepsSize ? stored.Height : pixels.Height,
                };
                // A remote worker's file is not stored as sent (it could carry bytes after IEND, or text the app would
                // read back as parameters): the server encodes the checked pixels with the metadata it writes itself,
                // the same encoder the worker uses, so the bytes are those an in-process run stores.
                var png = image.Pixels is null ? GenerationMetadata.EncodePng(pixels, described, hash) : image.Png;
                var file = await store.WriteAsync(pixels, png, CancellationToken.None);
                files.Add(file.Key);
                db.Images.Add(new GeneratedImage
                {
                    Id = Guid.NewGuid(),
                    OwnerId = job.OwnerId,
                    JobId = job.Id,
                    BatchIndex = image.BatchIndex,
                    Seed = image.Seed,
                    // An upscale is still the source model's picture (the gallery's model filter finds it there); its record names the upscaler.
                    Model = stored.Upscale is null ? job.Model : stored.Model,
                    ModelHash = hash,
                    Prompt = job.Prompt,
                    NegativePrompt = stored.NegativePrompt,
                    Width = pixels.Width,
                    Height = pixels.Height,
                    Parameters = GenerationMetadata.ParametersText(described, hash),
                    RequestJson = GenerationMetadata.ToJson(described),
                    FileKey = file.Key,
                    Sha256 = file.Sha256,
                    SizeBytes = file.SizeBytes,
                    CreatedAt = now.AddTicks(image.BatchIndex), // batch order survives "newest first"
                    ParentImageId = job.ParentImageId,
                    MaskFileKey = job.MaskFileKey,
                });
            }
            job.Status = JobStatus.Completed;
            job.Step = job.TotalSteps;
            job.FinishedAt = time.GetUtcNow();
            job.LeaseExpiresAt = null;
            job.ConcurrencyStamp = Guid.NewGuid();
            await db.SaveChangesAsync(CancellationToken.None); // rows only after every file is durable
        }
        catch (Exception ex)
        {
            foreach (var key in files)
            {
                store.Delete(key);
            }
            if (ex is DbUpdateConcurrencyException)
            {
                // Cancelled, timed out or lost under the delivery: the row says how it ended.
                ForgetHeld(held);
                return DeliveryReceipt.Refused("This worker does not hold that job.");
            }
            if (ex is ImageRefusedException or InvalidDataException)
            {
                LogDeliveryRefused(jobId, worker.Name, ex.Message);
                worker.CountFailed();
                await EndAsync(held, JobStatus.Failed, RefusedImagesError(ex.Message), held.Step);
                return DeliveryReceipt.Refused($"An image failed the checks: {ex.Message}");
            }
            throw;
        }

        ForgetHeld(held);
        worker.CountDone();
        metrics.JobCompleted(held.Shape, images.Count, held.Clock.Elapsed);
        if (held.Step > 0)
        {
            worker.Measured(job.Model, held.Clock.Elapsed.TotalSeconds * held.BatchShare / (held.Step * held.Shape.WorkPerStep));
        }
        registry.RaiseChanged();
        QueueChanged();
        var imageIds = db.ChangeTracker.Entries<GeneratedImage>().Select(e => e.Entity).OrderBy(i => i.BatchIndex).Select(i => i.Id).ToList();
        LogCompleted(jobId, worker.Name, imageIds.Count);
        try
        {
            // Into the gallery first: whoever hears "completed" finds the images where they look.
            await SaveToGalleryAsync(db, job, imageIds);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException)
        {
            // Its images and the Completed row are committed; only the "Save to" step after them failed.
            LogGallerySaveFailed(ex, job.Id);
        }
        Tell(held, to => new JobCompleted(job.Id, to, imageIds));
        notifier.Publish(new GalleryChanged(job.Id, job.OwnerId));
        return DeliveryReceipt.Stored;
    }

    /// <summary>A job <paramref name="worker"/> holds failed there; false when it does not hold it.</summary>
    public async Task<bool> FailAsync(WorkerSession worker, Guid jobId, Guid leaseId, string error, int step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (!TryHeld(worker, jobId, leaseId, out var held))
        {
            return false;
        }
        var message = string.IsNullOrWhiteSpace(error) ? "The worker failed to run this job." : error.Trim();
        if (message.Length > MaxErrorLength)
        {
            message = message[..MaxErrorLength] + "…";
        }
        worker.CountFailed();
        return await EndAsync(held, JobStatus.Failed, message, step);
    }

    /// <summary>A job <paramref name="worker"/> was told to stop has stopped; false when it does not hold it.</summary>
    public async Task<bool> StoppedAsync(WorkerSession worker, Guid jobId, Guid leaseId, int step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (!TryHeld(worker, jobId, leaseId, out var held))
        {
            return false;
        }
        return held.StopReason switch
        {
            StopReason.Canceled => await EndAsync(held, JobStatus.Canceled, null, step),
            // The time limit and a lost lease already ended the row; nothing left but to let the worker go.
            StopReason.TimedOut or StopReason.LeaseLost => ForgetHeld(held),
            // Stopped without being told: its owner's cancel reached another node first, or the worker gave up.
            _ => await EndAsync(held, JobStatus.Canceled, null, step),
        };
    }

    /// <summary>
    /// The worker is shutting down under a job it holds: back in line, this attempt not counted (or cancelled, if
    /// its owner had asked it to stop).
    /// </summary>
    public async Task<bool> ReleaseAsync(WorkerSession worker, Guid jobId, Guid leaseId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (!TryHeld(worker, jobId, leaseId, out var held))
        {
            return false;
        }
        if (held.StopReason == StopReason.Canceled)
        {
            return await EndAsync(held, JobStatus.Canceled, null, held.Step);
        }
        ForgetHeld(held);
        return await RequeueAsync(jobId, leaseId, held.Audience, worker.Name);
    }

    /// <summary>Puts a leased job back in line without counting the attempt; a job whose cancel was asked ends cancelled.</summary>
    private async Task<bool> RequeueAsync(Guid jobId, Guid leaseId, IReadOnlyList<string> recipients, string workerName)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var canceled = await db.Jobs
            .Where(j => j.Id == jobId && j.LeaseId == leaseId && j.Status == JobStatus.Running && j.CancelRequested)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Canceled)
                .SetProperty(j => j.FinishedAt, time.GetUtcNow())
                .SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(j => j.ConcurrencyStamp, Guid.NewGuid()), CancellationToken.None);
        if (canceled > 0)
        {
            QueueChanged();
            metrics.JobEnded(JobStatus.Canceled, null);
            foreach (var to in recipients)
            {
                notifier.Publish(new JobCanceled(jobId, to));
            }
            await ReleaseInpaintFilesAsync(jobId);
            return true;
        }
        var released = await db.Jobs
            .Where(j => j.Id == jobId && j.LeaseId == leaseId && j.Status == JobStatus.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Queued)
                .SetProperty(j => j.Attempts, j => j.Attempts > 0 ? j.Attempts - 1 : 0)
                .SetProperty(j => j.LeaseId, (Guid?)null)
                .SetProperty(j => j.LeaseWorkerId, (string?)null)
                .SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(j => j.Step, 0)
                .SetProperty(j => j.ConcurrencyStamp, Guid.NewGuid()), CancellationToken.None);
        if (released > 0)
        {
            LogReleased(jobId, workerName);
            QueueChanged();
            foreach (var to in recipients)
            {
                notifier.Publish(new JobQueued(jobId, to));
            }
        }
        return released > 0;
    }

    /// <summary>
    /// A worker left (disconnected, or its process ended): the job it held goes back to the front of its
    /// owner's line, the attempt counted (a job that loses a second worker fails); the worker leaves the registry.
    /// With <paramref name="keepLease"/> (this node is shutting down, not the worker) the lease stays in the
    /// database: the worker, still running the job, takes it back when it reconnects to a node, or the lease
    /// runs out and the sweeper re-queues it.
    /// </summary>
    public async Task WorkerLeftAsync(WorkerSession worker, string reason, bool keepLease = false)
    {
        ArgumentNullException.ThrowIfNull(worker);
        foreach (var held in _held.Values.Where(h => h.Worker == worker).ToList())
        {
            ForgetHeld(held);
            if (keepLease)
            {
                LogLeaseKept(held.JobId, worker.Name);
                continue;
            }
            held.StopReason = StopReason.LeaseLost;
            await LoseLeaseAsync(held.JobId, held.LeaseId, $"worker {worker.Name} left ({reason})");
        }
        registry.Leave(worker, reason);
    }

    // ----- Sweep: time limits, expired leases, cancels from other nodes ------------------------------------------

    /// <summary>
    /// Fails running jobs past <see cref="QueueOptions.MaxJobMinutes"/>, re-queues jobs whose lease ran out,
    /// stops jobs whose cancel was asked on another node, and fails waiting jobs whose model is gone (from this
    /// node's model folders and from every connected worker). <see cref="LeaseSweeper"/> calls it every second.
    /// </summary>
    public async Task SweepAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await FailJobsOfMissingModelsAsync(db, cancellationToken);
        if (queueOptions.Value.JobTimeLimit is { } limit)
        {
            var startedBefore = now - limit;
            var overdue = await db.Jobs.AsNoTracking()
                .Where(j => j.Status == JobStatus.Running && j.StartedAt != null && j.StartedAt <= startedBefore)
                .Select(j => new { j.Id, j.LeaseId, j.Step, j.OwnerId, j.GalleryId })
                .ToListAsync(cancellationToken);
            foreach (var job in overdue)
            {
                var held = _held.TryGetValue(job.Id, out var candidate) && candidate.LeaseId == job.LeaseId ? candidate : null;
                var error = TimeLimitError(queueOptions.Value.MaxJobMinutes);
                if (!await FinishRowAsync(job.Id, job.LeaseId, JobStatus.Failed, error, held?.Step ?? job.Step))
                {
                    continue; // it ended meanwhile
                }
                LogTimedOut(job.Id, queueOptions.Value.MaxJobMinutes);
                metrics.JobEnded(Telemetry.JobEndReason.TimeLimit);
                if (held is not null)
                {
                    held.Worker.CountFailed();
                    await StopHeldAsync(held, StopReason.TimedOut);
                }
                // A job held on another node: its audience is read here, its worker learns at its next beat.
                foreach (var to in held?.Audience ?? await audience.OfJobAsync(job.OwnerId, job.GalleryId, cancellationToken))
                {
                    notifier.Publish(new JobFailed(job.Id, to, error));
                }
                await ReleaseInpaintFilesAsync(job.Id);
            }
        }

        DateTimeOffset? nowOrNull = now;
        var expired = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.Running && j.LeaseExpiresAt != null && j.LeaseExpiresAt < nowOrNull)
            .Select(j => new { j.Id, j.LeaseId, j.WorkerName })
            .ToListAsync(cancellationToken);
        foreach (var job in expired)
        {
            if (_held.TryGetValue(job.Id, out var held) && held.LeaseId == job.LeaseId)
            {
                await StopHeldAsync(held, StopReason.LeaseLost);
                ForgetHeld(held);
            }
            await LoseLeaseAsync(job.Id, job.LeaseId, $"the lease of worker {job.WorkerName} ran out without a heartbeat", expiredBefore: now);
        }

        if (!_held.IsEmpty)
        {
            var heldIds = _held.Keys.ToList();
            var cancelled = await db.Jobs.AsNoTracking()
                .Where(j => heldIds.Contains(j.Id) && j.Status == JobStatus.Running && j.CancelRequested)
                .Select(j => new { j.Id, j.LeaseId })
                .ToListAsync(cancellationToken);
            foreach (var job in cancelled)
            {
                if (_held.TryGetValue(job.Id, out var held) && held.LeaseId == job.LeaseId && held.StopReason is null)
                {
                    await StopHeldAsync(held, StopReason.Canceled);
                }
            }
        }
    }

    /// <summary>
    /// A waiting job whose model no one has any more (not this node's model folders, nor any worker connected to
    /// any node) can never run: it fails with that reason and frees its slot. While Redis is lost this node cannot
    /// see the other nodes' workers, so it fails nothing.
    /// </summary>
    private async Task FailJobsOfMissingModelsAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        var waitingModels = await db.Jobs.Where(j => j.Status == JobStatus.Queued).Select(j => j.Model).Distinct().ToListAsync(cancellationToken);
        if (waitingModels.Count == 0 || cluster.Status.State == ClusterLinkState.Lost)
        {
            return;
        }
        IReadOnlyList<ClusterWorker> workers;
        try
        {
            workers = await directory.ReadAsync(cancellationToken);
        }
        catch (ClusterUnavailableException)
        {
            return; // the other nodes' workers are unknown this tick: a model they have is not "gone"
        }
        if (cluster.Status.State == ClusterLinkState.Lost)
        {
            return; // lost while reading: what was read may be this node's own workers only
        }
        var seenAt = time.GetTimestamp();
        foreach (var model in workers.SelectMany(w => w.Models))
        {
            _workerModelSeenAt[model] = seenAt;
        }
        var known = WorkerModels.Of(models).Concat(workers.SelectMany(w => w.Models)).ToHashSet(StringComparer.Ordinal);
        // A model a worker had a moment ago is not gone: its worker may be moving to another node (failover, a node
        // stopping and withdrawing its workers) or reconnecting after a network blip. It is gone once no worker has
        // shown it for a directory lifetime; a model no worker ever showed fails at once.
        foreach (var model in waitingModels.Where(m => !known.Contains(m)
            && !(_workerModelSeenAt.TryGetValue(m, out var lastSeen) && time.GetElapsedTime(lastSeen) < WorkerDirectory.Lifetime)))
        {
            var error = $"There is no model '{model}'.";
            var doomed = await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Queued && j.Model == model)
                .Select(j => new { j.Id, j.OwnerId, j.GalleryId }).ToListAsync(cancellationToken);
            foreach (var job in doomed)
            {
                var failed = await db.Jobs.Where(j => j.Id == job.Id && j.Status == JobStatus.Queued)
                    .ExecuteUpdateAsync(s => s
                        .SetProperty(j => j.Status, JobStatus.Failed)
                        .SetProperty(j => j.Error, error)
                        .SetProperty(j => j.FinishedAt, time.GetUtcNow())
                        .SetProperty(j => j.ConcurrencyStamp, Guid.NewGuid()), cancellationToken);
                if (failed == 0)
                {
                    continue;
                }
                LogModelGone(job.Id, model);
                metrics.JobEnded(Telemetry.JobEndReason.ModelMissing);
                QueueChanged();
                foreach (var to in await audience.OfJobAsync(job.OwnerId, job.GalleryId, cancellationToken))
                {
                    notifier.Publish(new JobFailed(job.Id, to, error));
                }
                await ReleaseInpaintFilesAsync(job.Id);
            }
        }
    }

    // ----- Where jobs stand --------------------------------------------------------------------------------------

    /// <summary>Where a job stands now (from the last read of the queue, a second old at most); null when it is not waiting or running.</summary>
    public QueueStanding? StandingOf(Guid jobId)
    {
        var snapshot = _snapshot;
        if (snapshot is null || snapshot.Version != Volatile.Read(ref _snapshotVersion) || time.GetElapsedTime(snapshot.ReadAt) > TimeSpan.FromSeconds(1))
        {
            _ = RefreshSnapshotAsync();
        }
        return snapshot?.StandingOf(jobId, this);
    }

    /// <summary>Where a job stands, from a fresh read of the queue.</summary>
    public async Task<QueueStanding?> StandingOfAsync(Guid jobId, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).StandingOf(jobId, this);

    /// <summary>The queue as it is now (a fresh read unless nothing changed on this node in the last second).</summary>
    public async Task<QueueSnapshot> SnapshotAsync(CancellationToken cancellationToken = default)
    {
        var snapshot = _snapshot;
        if (snapshot is not null && snapshot.Version == Volatile.Read(ref _snapshotVersion) && time.GetElapsedTime(snapshot.ReadAt) <= TimeSpan.FromSeconds(1))
        {
            return snapshot;
        }
        return await RefreshSnapshotAsync(cancellationToken);
    }

    /// <summary>Jobs held by workers connected to this node.</summary>
    public int HeldCount => _held.Count;

    /// <summary>
    /// The latest preview (JPEG) of a running job held by a worker connected to this node, for clients that poll
    /// (the AUTOMATIC1111 API's <c>progress</c>); null before the first preview or when another node holds it.
    /// </summary>
    public byte[]? LatestPreviewOf(Guid jobId) => _held.TryGetValue(jobId, out var held) ? held.LastPreviewJpeg : null;

    /// <inheritdoc />
    public void Dispose()
    {
        _queueSignals?.Dispose();
        _leaseGate.Dispose();
    }

    private async Task<QueueSnapshot> RefreshSnapshotAsync(CancellationToken cancellationToken = default)
    {
        var version = Volatile.Read(ref _snapshotVersion);
        var readAt = time.GetTimestamp();
        var order = await FairOrder.ReadAsync(dbFactory, cancellationToken);
        var snapshot = new QueueSnapshot(order, version, readAt);
        metrics.QueueRead(order);
        _snapshot = snapshot;
        return snapshot;
    }

    /// <summary>
    /// Live facts about a running job for estimates: steps done and its worker (held here, or as another node's
    /// worker directory says), and its pace so far (held here only).
    /// </summary>
    internal (int Step, ClusterWorker? Worker, double? SecondsPerWork) Live(Guid jobId)
    {
        if (!_held.TryGetValue(jobId, out var held))
        {
            return directory.Others.FirstOrDefault(w => w.CurrentJobId == jobId || w.BatchJobs.ContainsKey(jobId)) is { } elsewhere
                ? (elsewhere.CurrentJobId == jobId ? elsewhere.CurrentStep : elsewhere.BatchJobs[jobId], elsewhere, null)
                : (0, null, null);
        }
        double? pace = held.Step >= 2 ? held.Clock.Elapsed.TotalSeconds * held.BatchShare / (held.Step * held.Shape.WorkPerStep) : null;
        return (held.Step, ClusterWorker.Of(held.Worker, cluster.Node), pace);
    }

    /// <summary>The workers connected to every node (this node's live, the others' as last shared).</summary>
    internal IReadOnlyList<ClusterWorker> Workers => directory.All;

    // ----- Internals ---------------------------------------------------------------------------------------------

    private Task WorkSignal()
    {
        lock (_signalGate)
        {
            return _workSignal.Task;
        }
    }

    /// <summary>Something in the queue changed: waiting workers look again, estimates are read again.</summary>
    private void QueueChanged()
    {
        Signal();
        cluster.Publish(ClusterChannels.Queue, QueueSignal.Instance);
    }

    /// <summary>
    /// From the first worker that waits here on: another node queued, cancelled or finished a job, so this node's
    /// waiting workers look at once (not at their next poll) and estimates are read again.
    /// </summary>
    private void ListenToOtherNodes()
    {
        if (Volatile.Read(ref _queueSignals) is not null)
        {
            return;
        }
        var subscription = cluster.Subscribe<QueueSignal>(ClusterChannels.Queue, _ =>
        {
            Signal();
            return Task.CompletedTask;
        });
        if (Interlocked.CompareExchange(ref _queueSignals, subscription, null) is not null)
        {
            subscription.Dispose();
        }
    }

    private void Signal()
    {
        Interlocked.Increment(ref _snapshotVersion);
        TaskCompletionSource fired;
        lock (_signalGate)
        {
            fired = _workSignal;
            _workSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        fired.TrySetResult();
    }

    private bool TryHeld(WorkerSession worker, Guid jobId, Guid leaseId, out HeldJob held)
    {
        if (_held.TryGetValue(jobId, out held!) && held.LeaseId == leaseId && held.Worker.Id == worker.Id)
        {
            if (held.Worker != worker)
            {
                // The same worker reconnected: its new session carries on with the job.
                held.Worker = worker;
                worker.Hold(jobId);
            }
            return true;
        }
        return false;
    }

    private async Task<HeldJob?> AdoptAsync(WorkerSession worker, Guid jobId, Guid leaseId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.LeaseId == leaseId && j.LeaseWorkerId == worker.Id && j.Status == JobStatus.Running, cancellationToken);
        if (job is null)
        {
            return null;
        }
        var held = new HeldJob(job, leaseId, worker, await audience.OfJobAsync(job.OwnerId, job.GalleryId, cancellationToken), OutputSize(job, await ReadSourceAsync(job)));
        held = _held.AddOrUpdate(jobId, held, (_, existing) => existing.LeaseId == leaseId ? existing : held);
        worker.Hold(jobId);
        LogAdopted(jobId, worker.Name);
        registry.RaiseChanged();
        return held;
    }

    private async Task<JobAssignment?> AssignmentOfAsync(Job job, Guid leaseId, CancellationToken cancellationToken)
    {
        byte[]? source = null, mask = null;
        if (job.SourceFileKey is { } sourceKey)
        {
            try
            {
                source = await store.ReadAsync(sourceKey, cancellationToken);
                // An upscale job has a source and no mask; an inpainting job always has both.
                mask = job.MaskFileKey is { } maskKey ? await store.ReadAsync(maskKey, cancellationToken) : null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogSourceGone(ex, job.Id);
                const string Gone = "The source image or mask of this job is gone.";
                if (await FinishRowAsync(job.Id, leaseId, JobStatus.Failed, Gone, 0))
                {
                    metrics.JobEnded(JobStatus.Failed, Gone);
                    foreach (var to in await audience.OfJobAsync(job.OwnerId, job.GalleryId, CancellationToken.None))
                    {
                        notifier.Publish(new JobFailed(job.Id, to, Gone));
                    }
                    await ReleaseInpaintFilesAsync(job.Id);
                }
                return null;
            }
        }
        return new JobAssignment(job.Id, leaseId, job.Model, job.RequestJson, source, mask, job.Attempts);
    }

    /// <summary>The size every delivered image must have: the job's (an upscale's is its result's), or its inpainting source's (<paramref name="sourcePng"/>).</summary>
    private static (int Width, int Height) OutputSize(Job job, byte[]? sourcePng)
    {
        if (job.SourceFileKey is null || job.MaskFileKey is null || sourcePng is null)
        {
            return (job.Width, job.Height);
        }
        try
        {
            var header = ImageHeader.Read(sourcePng, ImageLimits.Default);
            return (header.Width, header.Height);
        }
        catch (ImageRefusedException)
        {
            return (job.Width, job.Height);
        }
    }

    /// <summary>An inpainting job's source PNG, or null (none, or unreadable).</summary>
    private async Task<byte[]?> ReadSourceAsync(Job job)
    {
        if (job.SourceFileKey is not { } sourceKey)
        {
            return null;
        }
        try
        {
            return await store.ReadAsync(sourceKey, CancellationToken.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? CheckDelivery(HeldJob held, IReadOnlyList<DeliveredImage> images)
    {
        if (images.Count != held.BatchSize)
        {
            return $"The job makes {held.BatchSize} image(s); {images.Count} came back.";
        }
        if (!images.Select(i => i.BatchIndex).Order().SequenceEqual(Enumerable.Range(0, held.BatchSize)))
        {
            return "The images' batch indices are not 0 to n-1, each once.";
        }
        foreach (var image in images)
        {
            if (image.Png is not { Length: > 8 } png || !png.AsSpan().StartsWith(PngChunks.Signature))
            {
                return $"Image {image.BatchIndex} is not a PNG.";
            }
            ImageHeader header;
            try
            {
                header = ImageHeader.Read(png, ImageLimits.Default);
            }
            catch (ImageRefusedException ex)
            {
                return $"Image {image.BatchIndex}: {ex.Message}";
            }
            if ((header.Width, header.Height) != held.OutputSize)
            {
                return $"Image {image.BatchIndex} is {header.Width}×{header.Height}; the job makes {held.OutputSize.Width}×{held.OutputSize.Height}.";
            }
            if (image.Seed != held.Seed + (ulong)image.BatchIndex)
            {
                return $"Image {image.BatchIndex} has seed {image.Seed}; the job's is {held.Seed + (ulong)image.BatchIndex}.";
            }
        }
        return null;
    }

    private static string SafeModelHash(string? hash) =>
        hash is { Length: > 0 and <= 64 } && hash.All(char.IsAsciiLetterOrDigit) ? hash : "";

    /// <summary>Ends a held job's row as <paramref name="status"/>, tells its audience, and lets the worker go.</summary>
    private async Task<bool> EndAsync(HeldJob held, JobStatus status, string? error, int step)
    {
        ForgetHeld(held);
        if (!await FinishRowAsync(held.JobId, held.LeaseId, status, error, step))
        {
            return false;
        }
        metrics.JobEnded(status, error);
        Tell(held, to => status == JobStatus.Canceled ? new JobCanceled(held.JobId, to) : new JobFailed(held.JobId, to, error ?? "Failed."));
        await ReleaseInpaintFilesAsync(held.JobId);
        return true;
    }

    /// <summary>Finishes a running job's row if <paramref name="leaseId"/> still holds it.</summary>
    private async Task<bool> FinishRowAsync(Guid jobId, Guid? leaseId, JobStatus status, string? error, int step)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var changed = await db.Jobs
            .Where(j => j.Id == jobId && j.LeaseId == leaseId && j.Status == JobStatus.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, status)
                .SetProperty(j => j.Error, error)
                .SetProperty(j => j.Step, step)
                .SetProperty(j => j.FinishedAt, now)
                .SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(j => j.ConcurrencyStamp, Guid.NewGuid()), CancellationToken.None);
        if (changed > 0)
        {
            QueueChanged();
        }
        return changed > 0;
    }

    /// <summary>
    /// A lease is gone: the job goes back to the front of its owner's line, or fails after its second loss, or
    /// ends cancelled if its owner had asked it to stop. With <paramref name="expiredBefore"/> (the sweeper) only
    /// if the lease is still past its expiry: a beat that came in meanwhile keeps it.
    /// </summary>
    private async Task LoseLeaseAsync(Guid jobId, Guid? leaseId, string why, DateTimeOffset? expiredBefore = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == jobId && j.LeaseId == leaseId && j.Status == JobStatus.Running
            && (expiredBefore == null || (j.LeaseExpiresAt != null && j.LeaseExpiresAt < expiredBefore)));
        if (job is null)
        {
            return;
        }
        var canceled = job.CancelRequested;
        var failed = !canceled && job.Attempts >= 2;
        job.Status = canceled ? JobStatus.Canceled : failed ? JobStatus.Failed : JobStatus.Queued;
        job.Error = failed ? LostTwiceError : null;
        job.FinishedAt = canceled || failed ? time.GetUtcNow() : null;
        job.LeaseId = null;
        job.LeaseWorkerId = null;
        job.LeaseExpiresAt = null;
        job.Step = canceled ? job.Step : 0;
        job.ConcurrencyStamp = Guid.NewGuid();
        try
        {
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (DbUpdateConcurrencyException)
        {
            return; // it ended meanwhile (completed, cancelled): nothing was lost
        }
        LogLeaseLost(jobId, why, canceled ? "cancelled, as its owner asked" : failed ? "failed" : "back in line");
        metrics.JobEnded(job.Status, job.Error);
        QueueChanged();
        foreach (var to in await audience.OfJobAsync(job.OwnerId, job.GalleryId, CancellationToken.None))
        {
            notifier.Publish(canceled ? new JobCanceled(jobId, to) : failed ? new JobFailed(jobId, to, LostTwiceError) : new JobQueued(jobId, to));
        }
        if (canceled || failed)
        {
            await ReleaseInpaintFilesAsync(jobId);
        }
    }

    private async Task StopHeldAsync(HeldJob held, StopReason reason)
    {
        held.StopReason ??= reason;
        try
        {
            await held.Worker.StopJobAsync(held.JobId);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The worker is unreachable: its lease runs out, or its disconnect re-queues the job.
            LogStopFailed(ex, held.JobId, held.Worker.Name);
        }
    }

    private bool ForgetHeld(HeldJob held)
    {
        _held.TryRemove(new KeyValuePair<Guid, HeldJob>(held.JobId, held));
        ClearWorker(held);
        return true;
    }

    private void ClearWorker(HeldJob held)
    {
        held.Worker.Drop(held.JobId);
        registry.RaiseChanged();
    }

    private void Tell(HeldJob held, Func<string, StudioEvent> make)
    {
        foreach (var recipient in held.Audience)
        {
            notifier.Publish(make(recipient));
        }
    }

    /// <summary>
    /// "Save to": puts the job's images in the gallery it named, if its owner may still add there (a role can
    /// change while a job waits), and tells everyone who sees that gallery.
    /// </summary>
    private async Task SaveToGalleryAsync(AppDbContext db, Job job, List<Guid> imageIds)
    {
        if (job.GalleryId is not { } galleryId || imageIds.Count == 0)
        {
            return;
        }
        if (await galleries.RoleAsync(job.OwnerId, galleryId, CancellationToken.None) is not >= TeamRole.Editor)
        {
            LogGalleryRefused(job.Id, galleryId);
            return;
        }
        var now = time.GetUtcNow();
        var gallery = await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => new { g.TeamId, g.ReviewRequired }).SingleAsync(CancellationToken.None);
        ReviewState? review = gallery.ReviewRequired ? ReviewState.NeedsReview : null;
        db.GalleryItems.AddRange(imageIds.Select((id, k) => new GalleryItem { GalleryId = galleryId, ImageId = id, AddedById = job.OwnerId, AddedAt = now.AddTicks(k), ReviewState = review }));
        await db.SaveChangesAsync(CancellationToken.None);
        foreach (var recipient in await audience.OfGalleryAsync(galleryId, CancellationToken.None))
        {
            notifier.Publish(new GalleryUpdated(galleryId, recipient));
        }
        if (gallery.TeamId is { } teamId)
        {
            await activity.RecordAsync(new ActivityRecord(teamId, job.OwnerId, TeamActivityKind.Generated, galleryId, imageIds[0],
                Detail: imageIds.Count == 1 ? "1 image" : $"{imageIds.Count} images"), CancellationToken.None);
        }
    }

    /// <summary>
    /// A failed or cancelled inpainting job never reads its source and mask again: they go now rather than
    /// count against the person's storage forever. A file left by a failure here is only an orphan the next sweep takes.
    /// </summary>
    private async Task ReleaseInpaintFilesAsync(Guid jobId)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await ImageLibrary.ReleaseInpaintFilesAsync(db, store, jobId, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DbUpdateException)
        {
            LogReleaseFailed(ex, jobId);
        }
    }

    private static async Task<Guid?> FindByKeyAsync(AppDbContext db, string userId, string key, CancellationToken cancellationToken) =>
        await db.Jobs.Where(j => j.OwnerId == userId && j.IdempotencyKey == key).Select(j => (Guid?)j.Id).SingleOrDefaultAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} leased to worker {Worker} ({WorkerId}), attempt {Attempt}")]
    private partial void LogLeased(Guid jobId, string worker, string workerId, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} on {Worker} runs in a batch with {Companions} more jobs, {Images} images a UNet call")]
    private partial void LogBatchFormed(Guid jobId, string worker, int companions, int images);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for a job for worker {Worker} failed; it asks again shortly")]
    private partial void LogLeaseFailed(Exception ex, string worker);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} completed on worker {Worker} with {Count} image(s)")]
    private partial void LogCompleted(Guid jobId, string worker, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} lost its lease: {Why}; {Outcome}")]
    private partial void LogLeaseLost(Guid jobId, string why, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} released by worker {Worker} as it stops; back in line")]
    private partial void LogReleased(Guid jobId, string worker);

    [LoggerMessage(Level = LogLevel.Information, Message = "This node is stopping: job {JobId} keeps its lease on worker {Worker}, which takes it back when it reconnects")]
    private partial void LogLeaseKept(Guid jobId, string worker);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} taken back by worker {Worker} after a reconnect")]
    private partial void LogAdopted(Guid jobId, string worker);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The images of job {JobId} from worker {Worker} were refused: {Problem}")]
    private partial void LogDeliveryRefused(Guid jobId, string worker, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {Worker} could not be told to stop job {JobId}")]
    private partial void LogStopFailed(Exception ex, Guid jobId, string worker);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The source or mask of job {JobId} could not be read")]
    private partial void LogSourceGone(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} could not save into gallery {GalleryId}: its owner may no longer add there")]
    private partial void LogGalleryRefused(Guid jobId, Guid galleryId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} completed but its images could not be put in its gallery")]
    private partial void LogGallerySaveFailed(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The source and mask files of finished job {JobId} could not be released")]
    private partial void LogReleaseFailed(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} failed: its model {Model} is in no model folder here and on no connected worker")]
    private partial void LogModelGone(Guid jobId, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ran past the per-job limit of {Minutes} minute(s) and was stopped")]
    private partial void LogTimedOut(Guid jobId, int minutes);

    private enum StopReason
    {
        Canceled,
        TimedOut,
        LeaseLost,
    }

    /// <summary>A job a worker connected to this node holds.</summary>
    private sealed class HeldJob(Job job, Guid leaseId, WorkerSession worker, IReadOnlyList<string> audience, (int Width, int Height) outputSize)
    {
        public Guid JobId { get; } = job.Id;

        public Guid LeaseId { get; } = leaseId;

        public WorkerSession Worker { get; set; } = worker;

        public IReadOnlyList<string> Audience { get; } = audience;

        public int BatchSize { get; } = job.BatchSize;

        public int TotalSteps { get; } = job.TotalSteps;

        public ulong Seed { get; } = GenerationMetadata.ReadStoredRequest(job.RequestJson)?.Seed ?? 0;

        public (int Width, int Height) OutputSize { get; } = outputSize;

        public JobShape Shape { get; } = FairOrder.ShapeOf(job);

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public int Step { get; set; }

        public byte[]? LastPreviewJpeg { get; set; }

        /// <summary>Its part of its batch's work (its images over the batch's); 1 when it runs alone.</summary>
        public double BatchShare { get; set; } = 1;

        public StopReason? StopReason { get; set; }
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Web.Images;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Jobs;

/// <summary>
/// The worker of this process's device: runs one job at a time in the dispatcher's fair order (the queue was
/// recovered by <see cref="QueueRecovery"/> before this starts). A failing job, whatever it throws, is marked
/// failed with its reason and frees its owner's slot; a job that runs past <see cref="QueueOptions.MaxJobMinutes"/>
/// is stopped and failed; the worker goes on.
/// </summary>
public sealed partial class GenerationWorker(
    IDbContextFactory<AppDbContext> dbFactory,
    ModelHost models,
    JobDispatcher dispatcher,
    StudioNotifier events,
    ImageStore store,
    IOptions<QueueOptions> options,
    TimeProvider time,
    ILogger<GenerationWorker> logger) : BackgroundService
{
    /// <summary>The message a job gets when the server stopped under it twice.</summary>
    public const string InterruptedError = "Interrupted: the server stopped while this job ran, twice. Submit it again.";

    /// <summary>The message a job gets when the worker itself failed around it (the database, most likely).</summary>
    public const string WorkerError = "The worker hit an unexpected error and stopped this job. Submit it again; if it keeps happening, tell an admin.";

    /// <summary>The message a job gets when it ran past <see cref="QueueOptions.MaxJobMinutes"/>.</summary>
    public static string TimeLimitError(int minutes) =>
        $"Stopped after {minutes} minute{(minutes == 1 ? "" : "s")}: the per-job limit (Queue:MaxJobMinutes).";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunWorker)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            Guid jobId;
            string ownerId;
            try
            {
                (jobId, ownerId) = await dispatcher.NextAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                await RunAsync(jobId, stoppingToken);
            }
            catch (Exception ex)
            {
                // RunAsync records a job's own failures; this is recording itself failing (the database, or memory).
                // The job must not stay Running and hold its owner's slot: fail it on a fresh context, keep serving.
                LogWorkerError(ex, jobId);
                ReleaseMemoryAfter(ex);
                await FailAbandonedAsync(jobId, ownerId);
            }
        }
    }

    /// <summary>Marks a job the worker lost hold of as failed, if it is still waiting or running; never throws.</summary>
    private async Task FailAbandonedAsync(Guid jobId, string ownerId)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            var changed = await db.Jobs
                .Where(j => j.Id == jobId && (j.Status == JobStatus.Running || j.Status == JobStatus.Queued))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(j => j.Status, JobStatus.Failed)
                    .SetProperty(j => j.Error, WorkerError)
                    .SetProperty(j => j.FinishedAt, time.GetUtcNow())
                    .SetProperty(j => j.ConcurrencyStamp, Guid.NewGuid()), CancellationToken.None);
            if (changed > 0)
            {
                events.Publish(new JobFailed(jobId, ownerId, WorkerError));
            }
        }
        catch (Exception ex)
        {
            // The database is gone altogether: the next start's recovery re-queues the job.
            LogWorkerError(ex, jobId);
        }
    }

    /// <summary>
    /// After an <see cref="OutOfMemoryException"/> the job that asked for too much is gone and its buffers are garbage:
    /// compact the large-object heap once so the next job finds the memory, rather than letting the process die.
    /// </summary>
    private static void ReleaseMemoryAfter(Exception ex)
    {
        if (ex is OutOfMemoryException || ex.InnerException is OutOfMemoryException)
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
    }

    private async Task RunAsync(Guid jobId, CancellationToken stoppingToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == jobId, CancellationToken.None);
        if (job is not { Status: JobStatus.Queued })
        {
            return; // cancelled while it waited
        }
        var stored = GenerationMetadata.ReadStoredRequest(job.RequestJson);
        if (stored is null)
        {
            await FinishAsync(db, job, JobStatus.Failed, "The stored request could not be read.", [job.OwnerId]);
            return;
        }
        var running = dispatcher.BeginRunning(job.Id, GenerationService.ShapeOf(job, stored.GuidanceScale), stoppingToken, options.Value.JobTimeLimit, time);
        var completed = false;
        IReadOnlyList<string> audience = [job.OwnerId];
        try
        {
            job.Status = JobStatus.Running;
            job.Attempts++;
            job.StartedAt = time.GetUtcNow();
            job.Step = 0;
            job.ConcurrencyStamp = Guid.NewGuid();
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
            }
            catch (DbUpdateConcurrencyException)
            {
                return; // its owner cancelled it between the lookup and the start
            }
            audience = await AudienceAsync(db, job);
            Tell(audience, to => new JobStarted(job.Id, to));

            var imageIds = await GenerateAndStoreAsync(db, job, stored, running, audience);
            completed = true;
            // Into the gallery first: whoever hears "completed" finds the images where they look.
            await SaveToGalleryAsync(db, job, imageIds);
            Tell(audience, to => new JobCompleted(job.Id, to, imageIds));
            events.Publish(new GalleryChanged(job.Id, job.OwnerId));
        }
        catch (OperationCanceledException) when (running.CancelRequested)
        {
            job.Step = running.Step; // where it stopped, for its owner
            await FinishAsync(db, job, JobStatus.Canceled, null, audience);
        }
        catch (OperationCanceledException) when (running.TimedOut && !stoppingToken.IsCancellationRequested)
        {
            LogTimedOut(job.Id, options.Value.MaxJobMinutes);
            job.Step = running.Step;
            await FinishAsync(db, job, JobStatus.Failed, TimeLimitError(options.Value.MaxJobMinutes), audience);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // A planned stop is not the job's fault: back in line, this attempt not counted.
            job.Status = JobStatus.Queued;
            job.Attempts = Math.Max(0, job.Attempts - 1);
            job.ConcurrencyStamp = Guid.NewGuid();
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception ex) when (!completed)
        {
            // Any type at all: a job that throws must end Failed and free its owner's slot, never stay Running.
            LogJobFailed(ex, job.Id);
            ReleaseMemoryAfter(ex);
            await FinishAsync(db, job, JobStatus.Failed, Describe(ex), audience);
        }
        catch (Exception ex)
        {
            // Its images and the Completed row are committed; only the "Save to" step after them failed.
            LogGallerySaveFailed(ex, job.Id);
            Tell(audience, to => new JobCompleted(job.Id, to, [.. db.Images.Local.Where(i => i.JobId == job.Id).OrderBy(i => i.BatchIndex).Select(i => i.Id)]));
        }
        finally
        {
            dispatcher.EndRunning(running, completed);
        }
    }

    /// <summary>Who follows a job: its owner, and the members of the team whose gallery it generates into.</summary>
    private static async Task<IReadOnlyList<string>> AudienceAsync(AppDbContext db, Job job)
    {
        if (job.GalleryId is not { } galleryId)
        {
            return [job.OwnerId];
        }
        var members = await Galleries.GalleryService.AudienceAsync(db, galleryId, CancellationToken.None);
        return [.. members.Append(job.OwnerId).Distinct(StringComparer.Ordinal)];
    }

    private void Tell(IReadOnlyList<string> audience, Func<string, StudioEvent> make)
    {
        foreach (var recipient in audience)
        {
            events.Publish(make(recipient));
        }
    }

    private async Task<IReadOnlyList<Guid>> GenerateAndStoreAsync(AppDbContext db, Job job, StoredRequest stored, RunningJob running, IReadOnlyList<string> audience)
    {
        var request = stored.ToRequest();
        InpaintOptions? inpaint = null;
        if (job.SourceFileKey is { } sourceKey)
        {
            // Inpainting: the source and mask were checked and stored at submit; read them back the same way.
            using var sourceStream = new MemoryStream(await store.ReadAsync(sourceKey, CancellationToken.None));
            var source = PngFiles.Decode(sourceStream);
            var mask = MaskFiles.Decode(await store.ReadAsync(job.MaskFileKey!.Value, CancellationToken.None), source.Width, source.Height);
            inpaint = stored.ToInpaintOptions(mask)
                ?? throw new InvalidDataException("The stored inpainting options could not be read.");
            request = request with { InitImage = source };
        }
        using var lease = models.Acquire(job.Model);
        var pipeline = new StableDiffusionPipeline(lease.Model) { PreviewEvery = 1 };
        var progress = new InlineProgress<GenerationProgress>(p =>
        {
            running.Step = p.Step;
            Func<byte[]?>? preview = p.Preview is { } image ? () => WebImages.PreviewJpeg(image) : null;
            events.PublishProgress(job.Id, audience, p.Step, p.TotalSteps, preview);
        });
        var result = inpaint is null
            ? await pipeline.GenerateAsync(request, progress, running.Token)
            : await pipeline.InpaintAsync(request, inpaint, progress, running.Token);

        var files = new List<Guid>();
        try
        {
            var now = time.GetUtcNow();
            for (var k = 0; k < result.Images.Count; k++)
            {
                var described = GenerationMetadata.Describe(request, job.Model, k, inpaint);
                var png = GenerationMetadata.EncodePng(result.Images[k], described, lease.Model.ModelHash);
                var file = await store.WriteAsync(result.Images[k], png, CancellationToken.None);
                files.Add(file.Key);
                db.Images.Add(new GeneratedImage
                {
                    Id = Guid.NewGuid(),
                    OwnerId = job.OwnerId,
                    JobId = job.Id,
                    BatchIndex = k,
                    Seed = result.Seeds[k],
                    Model = job.Model,
                    ModelHash = lease.Model.ModelHash,
                    Prompt = request.Prompt,
                    NegativePrompt = request.NegativePrompt ?? "",
                    Width = result.Images[k].Width,
                    Height = result.Images[k].Height,
                    Parameters = GenerationMetadata.ParametersText(described, lease.Model.ModelHash),
                    RequestJson = GenerationMetadata.ToJson(described),
                    FileKey = file.Key,
                    Sha256 = file.Sha256,
                    SizeBytes = file.SizeBytes,
                    CreatedAt = now.AddTicks(k), // batch order survives "newest first"
                    ParentImageId = job.ParentImageId,
                    MaskFileKey = job.MaskFileKey,
                });
            }
            job.Status = JobStatus.Completed;
            job.Step = job.TotalSteps;
            job.FinishedAt = time.GetUtcNow();
            job.ConcurrencyStamp = Guid.NewGuid();
            await db.SaveChangesAsync(CancellationToken.None); // rows only after every file is durable
        }
        catch
        {
            foreach (var key in files)
            {
                store.Delete(key);
            }
            throw;
        }
        return [.. db.ChangeTracker.Entries<GeneratedImage>().Select(e => e.Entity).OrderBy(i => i.BatchIndex).Select(i => i.Id)];
    }

    /// <summary>
    /// "Save to": puts the job's images in the gallery it named, if its owner may still add there (a role can
    /// change while a job waits), and tells everyone who sees that gallery.
    /// </summary>
    private async Task SaveToGalleryAsync(AppDbContext db, Job job, IReadOnlyList<Guid> imageIds)
    {
        if (job.GalleryId is not { } galleryId || imageIds.Count == 0)
        {
            return;
        }
        if (await Galleries.GalleryService.RoleAsync(db, job.OwnerId, galleryId, CancellationToken.None) is not >= TeamRole.Editor)
        {
            LogGalleryRefused(job.Id, galleryId);
            return;
        }
        var now = time.GetUtcNow();
        db.GalleryItems.AddRange(imageIds.Select((id, k) => new GalleryItem { GalleryId = galleryId, ImageId = id, AddedById = job.OwnerId, AddedAt = now.AddTicks(k) }));
        await db.SaveChangesAsync(CancellationToken.None);
        foreach (var recipient in await Galleries.GalleryService.AudienceAsync(db, galleryId, CancellationToken.None))
        {
            events.Publish(new GalleryUpdated(galleryId, recipient));
        }
    }

    private async Task FinishAsync(AppDbContext db, Job job, JobStatus status, string? error, IReadOnlyList<string> audience)
    {
        // Forget half-added image rows of a failed attempt; the job row itself is still tracked.
        foreach (var entry in db.ChangeTracker.Entries<GeneratedImage>().Where(e => e.State == EntityState.Added).ToList())
        {
            entry.State = EntityState.Detached;
        }
        job.Status = status;
        job.Error = error;
        job.FinishedAt = time.GetUtcNow();
        job.ConcurrencyStamp = Guid.NewGuid();
        await db.SaveChangesAsync(CancellationToken.None);
        Tell(audience, to => status == JobStatus.Canceled ? new JobCanceled(job.Id, to) : new JobFailed(job.Id, to, error ?? "Failed."));
        await ReleaseInpaintFilesAsync(db, job.Id);
    }

    /// <summary>
    /// A failed or cancelled inpainting job never reads its source and mask again: they go now rather than
    /// count against the person's storage forever. A file left by a failure here is only an orphan the next sweep takes.
    /// </summary>
    private async Task ReleaseInpaintFilesAsync(AppDbContext db, Guid jobId)
    {
        try
        {
            await ImageLibrary.ReleaseInpaintFilesAsync(db, store, jobId, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DbUpdateException)
        {
            LogReleaseFailed(ex, jobId);
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        ArgumentException => ex.Message.Replace(" (Parameter 'request')", "", StringComparison.Ordinal).Replace(" (Parameter 'options')", "", StringComparison.Ordinal),
        FileNotFoundException => "The source image or mask of this job is gone.",
        InvalidDataException or ImageRefusedException => ex.Message,
        KeyNotFoundException or InvalidOperationException => ex.Message,
        OnnxRuntimeException => $"The model failed to run: {ex.Message}",
        IOException => $"The image could not be stored: {ex.Message}",
        OutOfMemoryException => "The server ran out of memory running this job. Try a smaller size or batch.",
        // An unforeseen type: name it (an admin can find it in the log) without showing internals to the person.
        _ => $"The job stopped on an unexpected error ({ex.GetType().Name}). Submit it again; if it keeps happening, tell an admin.",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} could not save into gallery {GalleryId}: its owner may no longer add there")]
    private partial void LogGalleryRefused(Guid jobId, Guid galleryId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} completed but its images could not be put in its gallery")]
    private partial void LogGallerySaveFailed(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The source and mask files of finished job {JobId} could not be released")]
    private partial void LogReleaseFailed(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} failed")]
    private partial void LogJobFailed(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The worker could not record job {JobId}")]
    private partial void LogWorkerError(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ran past the per-job limit of {Minutes} minute(s) and was stopped")]
    private partial void LogTimedOut(Guid jobId, int minutes);

    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

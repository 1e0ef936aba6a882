using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;

namespace T2IStudio.Generation.Workers;

/// <summary>
/// The generation worker: takes one job at a time from its transport (with the companions leased beside it when
/// <c>Generation:MaxBatch</c> leaves room, run in the same UNet calls), runs it on this process's device and hands
/// the PNGs back. It never touches the database or the image store, so the same loop runs inside the
/// web app (in-process transport) and in <c>T2IStudio.Worker</c> on a GPU machine (SignalR transport).
/// Whatever a job throws, the job is reported failed and the loop goes on.
/// </summary>
public sealed partial class WorkerLoop(ModelHost models, TimeProvider time, ILogger<WorkerLoop> logger)
{
    /// <summary>The steps an upscale job counts: its tiles, as hundredths of the whole.</summary>
    public const int UpscaleJobSteps = 100;

    /// <summary>Runs jobs from <paramref name="transport"/> until <paramref name="stopping"/> is cancelled or the transport closes.</summary>
    public async Task RunAsync(IWorkerTransport transport, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(transport);
        while (!stopping.IsCancellationRequested)
        {
            LeasedJob? job;
            try
            {
                job = await transport.NextJobAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            if (job is null)
            {
                break;
            }
            using (job)
            {
                var companions = await CompanionsAsync(transport, job, stopping);
                try
                {
                    if (companions.Count == 0)
                    {
                        await RunOneAsync(transport, job, stopping);
                    }
                    else
                    {
                        await RunBatchAsync(transport, [job, .. companions], stopping);
                    }
                }
                finally
                {
                    companions.ForEach(c => c.Dispose());
                }
            }
        }
    }

    /// <summary>Runs one leased job to its end and reports how it ended; never throws.</summary>
    public async Task RunOneAsync(IWorkerTransport transport, LeasedJob job, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(job);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(job.Token, stopping);
        using var beats = CancellationTokenSource.CreateLinkedTokenSource(run.Token);
        var heartbeat = BeatAsync(transport, job, beats.Token);
        try
        {
            var (modelHash, images) = await GenerateAsync(transport, job, run.Token);
            await beats.CancelAsync();
            var receipt = await transport.DeliverAsync(job, modelHash, images, CancellationToken.None);
            if (!receipt.Accepted)
            {
                LogDeliveryRefused(job.JobId, receipt.Reason ?? "");
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && !job.Token.IsCancellationRequested)
        {
            // This worker is stopping; the job is not at fault: back in line for another worker.
            await ReportAsync(job, () => transport.ReleaseAsync(job, CancellationToken.None));
        }
        catch (OperationCanceledException) when (job.Token.IsCancellationRequested)
        {
            await ReportAsync(job, () => transport.ReportStoppedAsync(job, job.Step, CancellationToken.None));
        }
        catch (Exception ex)
        {
            // Any type at all: a job that throws must end failed and free its owner's slot; the loop goes on.
            LogJobFailed(ex, job.JobId);
            ReleaseMemoryAfter(ex);
            await ReportAsync(job, () => transport.ReportFailureAsync(job, Describe(ex), job.Step, CancellationToken.None));
        }
        finally
        {
            await beats.CancelAsync();
            await heartbeat;
        }
    }

    private async Task<(string ModelHash, IReadOnlyList<DeliveredImage> Images)> GenerateAsync(IWorkerTransport transport, LeasedJob job, CancellationToken cancellationToken)
    {
        var assignment = job.Assignment;
        var stored = GenerationMetadata.ReadStoredRequest(assignment.RequestJson)
            ?? throw new InvalidDataException("The stored request could not be read.");
        if (stored.Upscale is { } upscale)
        {
            return await UpscaleAsync(transport, job, stored, upscale, cancellationToken);
        }
        var (request, inpaint) = ReadRequest(assignment, stored);
        using var lease = models.Acquire(assignment.Model);
        var pipeline = new StableDiffusionPipeline(lease.Model) { PreviewEvery = 1 };
        var progress = Progress(transport, job);
        GenerationResult result;
        if (stored.Hires is { } hires)
        {
            // The upscaler is lent for the run; with none named the first pass is enlarged with Lanczos.
            using var upscaler = hires.Upscaler is { } upscalerId ? models.AcquireUpscaler(upscalerId) : null;
            result = await new HiresFix(lease.Model, upscaler?.Upscaler) { PreviewEvery = 1 }.GenerateAsync(request, hires, progress, cancellationToken);
        }
        else
        {
            result = inpaint is null
                ? await pipeline.GenerateAsync(request, progress, cancellationToken)
                : await pipeline.InpaintAsync(request, inpaint, progress, cancellationToken);
        }
        cancellationToken.ThrowIfCancellationRequested();

        var images = Deliverables(assignment, stored, request, inpaint, result, lease.Model.ModelHash);
        return (lease.Model.ModelHash, images);
    }

    // The request a stored job asks for, with its source image and inpainting options when it inpaints.
    private static (GenerationRequest Request, InpaintOptions? Inpaint) ReadRequest(JobAssignment assignment, StoredRequest stored)
    {
        var request = stored.ToRequest();
        if (assignment.SourcePng is not { } sourcePng)
        {
            return (request, null);
        }
        using var sourceStream = new MemoryStream(sourcePng);
        var source = PngFiles.DecodeStored(sourceStream);
        var mask = MaskFiles.Decode(assignment.MaskPng ?? throw new InvalidDataException("The inpainting job came without its mask."), source.Width, source.Height);
        var inpaint = stored.ToInpaintOptions(mask) ?? throw new InvalidDataException("The stored inpainting options could not be read.");
        return (request with { InitImage = source }, inpaint);
    }

    // The PNGs of a finished run, each with its parameters embedded.
    private static List<DeliveredImage> Deliverables(JobAssignment assignment, StoredRequest stored, GenerationRequest request, InpaintOptions? inpaint, GenerationResult result, string modelHash)
    {
        var images = new List<DeliveredImage>(result.Images.Count);
        for (var k = 0; k < result.Images.Count; k++)
        {
            var described = GenerationMetadata.Describe(request, assignment.Model, k, inpaint) with { Style = stored.Style, Hires = stored.Hires };
            var png = GenerationMetadata.EncodePng(result.Images[k], described, modelHash);
            images.Add(new DeliveredImage(k, result.Seeds[k], png) { Pixels = result.Images[k] });
        }
        return images;
    }

    /// <summary>The reference image area of <see cref="BatchLimit"/>: <c>Generation:MaxBatch</c> counts images of 512 × 512 pixels.</summary>
    public const int BatchReferenceArea = 512 * 512;

    /// <summary>
    /// Images one UNet call may hold at <paramref name="width"/> × <paramref name="height"/>: the batch limit counts
    /// 512² images, and the UNet's activations grow with the pixel area, so a larger image takes a proportionally
    /// larger share (at 1024² a limit of 8 holds 2 images); smaller images never exceed the limit. Always at least 1.
    /// </summary>
    public static int BatchLimit(int limit, int width, int height)
    {
        var area = Math.Max(1L, (long)width * height);
        return (int)Math.Clamp(limit * (long)BatchReferenceArea / area, 1, Math.Max(1, limit));
    }

    // Waiting jobs that can share the head's UNet calls, leased beside it; none when batching is off, the head never
    // batches (a hires fix, an upscale) or already fills the limit, or the server has none (or cannot be asked).
    private async Task<List<LeasedJob>> CompanionsAsync(IWorkerTransport transport, LeasedJob head, CancellationToken stopping)
    {
        if (GenerationMetadata.ReadStoredRequest(head.Assignment.RequestJson) is not { } stored
            || BatchKey.Of(stored, head.Assignment.SourcePng is not null) is null)
        {
            return [];
        }
        var room = BatchLimit(models.MaxBatch, stored.Width, stored.Height) - (stored.BatchSize ?? 1);
        if (room <= 0)
        {
            return [];
        }
        try
        {
            return [.. await transport.JoinBatchAsync(head, new BatchOffer(room), stopping)];
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // Batching is a saving, not a promise: the head runs alone.
            LogJoinFailed(ex, head.JobId);
            return [];
        }
    }

    /// <summary>
    /// Runs a head job and the companions leased beside it in the same UNet calls
    /// (<see cref="StableDiffusionPipeline.GenerateBatchAsync"/>). Each job keeps its own lease: its own heartbeat,
    /// progress and previews, and its own ending — delivered, failed, stopped (reported as soon as its token is
    /// cancelled; its rows leave the batch at the next step) or released when this worker stops. Never throws.
    /// </summary>
    public async Task RunBatchAsync(IWorkerTransport transport, IReadOnlyList<LeasedJob> jobs, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(jobs);
        var entries = new List<BatchEntry>();
        try
        {
            BatchKey? key = null;
            foreach (var job in jobs)
            {
                var entry = new BatchEntry(job, stopping);
                entry.Heartbeat = BeatAsync(transport, job, entry.Beats.Token);
                entries.Add(entry);
                try
                {
                    var stored = GenerationMetadata.ReadStoredRequest(job.Assignment.RequestJson)
                        ?? throw new InvalidDataException("The stored request could not be read.");
                    var jobKey = BatchKey.Of(stored, job.Assignment.SourcePng is not null);
                    key ??= jobKey;
                    if (jobKey is null || jobKey != key)
                    {
                        // Not this batch's kind of work (the server should not have paired it): back in line, not its fault.
                        entry.Ended = true;
                        await ReportAsync(job, () => transport.ReleaseAsync(job, CancellationToken.None));
                        continue;
                    }
                    (entry.Request, entry.Inpaint) = ReadRequest(job.Assignment, stored);
                    entry.Stored = stored;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    LogJobFailed(ex, job.JobId);
                    entry.Ended = true;
                    await ReportAsync(job, () => transport.ReportFailureAsync(job, Describe(ex), job.Step, CancellationToken.None));
                }
            }
            var running = entries.Where(e => !e.Ended).ToList();
            if (running.Count == 0)
            {
                return;
            }
            foreach (var entry in running)
            {
                // A stop (its owner cancelled, the time limit, a lost lease) is told at once; its rows leave at the next step.
                var job = entry.Job;
                entry.StopRegistration = job.Token.Register(() => entry.StopReport = ReportAsync(job, () => transport.ReportStoppedAsync(job, job.Step, CancellationToken.None)));
            }

            IReadOnlyList<BatchOutcome> outcomes;
            string modelHash;
            try
            {
                using var lease = models.Acquire(jobs[0].Assignment.Model);
                modelHash = lease.Model.ModelHash;
                var pipeline = new StableDiffusionPipeline(lease.Model) { PreviewEvery = 1 };
                var members = running.Select(e => new BatchMember(e.Request!, e.Inpaint, Progress(transport, e.Job), e.Run.Token)).ToList();
                outcomes = await pipeline.GenerateBatchAsync(members, stopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The model could not be had, or the batch could not start: every job fails with that reason.
                ReleaseMemoryAfter(ex);
                outcomes = [.. running.Select(_ => new BatchOutcome(null, ex))];
                modelHash = "";
            }
            catch (OperationCanceledException)
            {
                outcomes = [.. running.Select(_ => new BatchOutcome(null, new OperationCanceledException(stopping)))];
                modelHash = "";
            }

            for (var m = 0; m < running.Count; m++)
            {
                var (entry, outcome, job) = (running[m], outcomes[m], running[m].Job);
                await entry.Beats.CancelAsync();
                entry.StopRegistration.Dispose();
                if (outcome.Result is { } result && !job.Token.IsCancellationRequested)
                {
                    try
                    {
                        var images = Deliverables(job.Assignment, entry.Stored!, entry.Request!, entry.Inpaint, result, modelHash);
                        var receipt = await transport.DeliverAsync(job, modelHash, images, CancellationToken.None);
                        if (!receipt.Accepted)
                        {
                            LogDeliveryRefused(job.JobId, receipt.Reason ?? "");
                        }
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        LogJobFailed(ex, job.JobId);
                        await ReportAsync(job, () => transport.ReportFailureAsync(job, Describe(ex), job.Step, CancellationToken.None));
                    }
                }
                else if (job.Token.IsCancellationRequested)
                {
                    if (entry.StopReport is { } told)
                    {
                        await told;
                    }
                    else
                    {
                        await ReportAsync(job, () => transport.ReportStoppedAsync(job, job.Step, CancellationToken.None));
                    }
                }
                else if (outcome.Error is OperationCanceledException && stopping.IsCancellationRequested)
                {
                    // This worker is stopping; the job is not at fault: back in line for another worker.
                    await ReportAsync(job, () => transport.ReleaseAsync(job, CancellationToken.None));
                }
                else
                {
                    var error = outcome.Error ?? new InvalidOperationException("The batch ended without this job's images.");
                    LogJobFailed(error, job.JobId);
                    ReleaseMemoryAfter(error);
                    await ReportAsync(job, () => transport.ReportFailureAsync(job, Describe(error), job.Step, CancellationToken.None));
                }
            }
        }
        finally
        {
            foreach (var entry in entries)
            {
                await entry.Beats.CancelAsync();
                if (entry.Heartbeat is { } heartbeat)
                {
                    await heartbeat;
                }
                entry.Dispose();
            }
        }
    }

    // A job's own progress: its step, and a report with a preview now and then (throttled per job).
    private InlineProgress<GenerationProgress> Progress(IWorkerTransport transport, LeasedJob job)
    {
        var throttle = new ProgressThrottle(time);
        return new InlineProgress<GenerationProgress>(p =>
        {
            job.Step = p.Step;
            if (throttle.Due(p.Step, p.TotalSteps, p.Preview is not null, out var withPreview))
            {
                var preview = withPreview ? WebImages.PreviewJpeg(p.Preview!) : null;
                _ = ReportAsync(job, () => transport.ReportProgressAsync(job, p.Step, p.TotalSteps, preview, CancellationToken.None));
            }
        });
    }

    /// <summary>One job of a batch on this worker: its tokens, heartbeat, request and how it ended.</summary>
    private sealed class BatchEntry(LeasedJob job, CancellationToken stopping) : IDisposable
    {
        public LeasedJob Job { get; } = job;

        public CancellationTokenSource Run { get; } = CancellationTokenSource.CreateLinkedTokenSource(job.Token, stopping);

        public CancellationTokenSource Beats { get; } = CancellationTokenSource.CreateLinkedTokenSource(job.Token, stopping);

        public Task? Heartbeat { get; set; }

        public StoredRequest? Stored { get; set; }

        public GenerationRequest? Request { get; set; }

        public InpaintOptions? Inpaint { get; set; }

        public bool Ended { get; set; }

        public CancellationTokenRegistration StopRegistration { get; set; }

        public Task? StopReport { get; set; }

        public void Dispose()
        {
            StopRegistration.Dispose();
            Run.Dispose();
            Beats.Dispose();
        }
    }

    /// <summary>An upscale job: the source image through the upscaler, progress per tile, the source's record kept.</summary>
    private async Task<(string ModelHash, IReadOnlyList<DeliveredImage> Images)> UpscaleAsync(
        IWorkerTransport transport, LeasedJob job, StoredRequest stored, UpscaleRecord upscale, CancellationToken cancellationToken)
    {
        var sourcePng = job.Assignment.SourcePng ?? throw new InvalidDataException("The upscale job came without its source image.");
        using var sourceStream = new MemoryStream(sourcePng);
        var source = PngFiles.DecodeStored(sourceStream);
        using var upscalerLease = models.AcquireUpscaler(upscale.Upscaler);
        var upscaler = upscalerLease.Upscaler;
        var throttle = new ProgressThrottle(time);
        var progress = new InlineProgress<Upscaling.UpscaleProgress>(p =>
        {
            // The queue counts an upscale in hundredths (UpscaleJobSteps): how many tiles a model runs is its own affair.
            var step = p.Tiles > 0 ? p.Tile * UpscaleJobSteps / p.Tiles : 0;
            job.Step = step;
            if (throttle.Due(step, UpscaleJobSteps, false, out _))
            {
                _ = ReportAsync(job, () => transport.ReportProgressAsync(job, step, UpscaleJobSteps, null, CancellationToken.None));
            }
        });
        var image = await Task.Run(() => upscaler.Upscale(source, upscale.Scale, progress, cancellationToken), cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        var hash = upscale.SourceModelHash ?? "";
        var png = GenerationMetadata.EncodePng(image, stored with { BatchSize = null }, hash);
        return (hash, [new DeliveredImage(0, stored.Seed, png) { Pixels = image }]);
    }

    private async Task BeatAsync(IWorkerTransport transport, LeasedJob job, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(transport.HeartbeatInterval, time);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                bool held;
                try
                {
                    held = await transport.HeartbeatAsync(job, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A missed beat is what a lease allows for; the next one may get through.
                    LogHeartbeatFailed(ex, job.JobId);
                    continue;
                }
                if (!held)
                {
                    // The server gave the job to someone else (this worker was too slow to beat): stop working on it.
                    LogLeaseLost(job.JobId);
                    job.Stop();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The job ended.
        }
    }

    private async Task ReportAsync(LeasedJob job, Func<Task> report)
    {
        try
        {
            await report();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The server is unreachable: the lease runs out there and the job goes back in line without us.
            LogReportFailed(ex, job.JobId);
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

    /// <summary>Why a job failed, in words for its owner; internals stay in the worker's log.</summary>
    public static string Describe(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex switch
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
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ask the server for jobs to batch with job {JobId}; it runs alone")]
    private partial void LogJoinFailed(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} failed")]
    private partial void LogJobFailed(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server refused the images of job {JobId}: {Reason}")]
    private partial void LogDeliveryRefused(Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A heartbeat for job {JobId} did not get through")]
    private partial void LogHeartbeatFailed(Exception ex, Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the lease on job {JobId}: the server gave it to another worker; stopping it here")]
    private partial void LogLeaseLost(Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A report about job {JobId} did not reach the server")]
    private partial void LogReportFailed(Exception ex, Guid jobId);

    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

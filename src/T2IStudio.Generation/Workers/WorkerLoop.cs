using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;

namespace T2IStudio.Generation.Workers;

/// <summary>
/// The generation worker: takes one job at a time from its transport, runs it on this process's device and
/// hands the PNGs back. It never touches the database or the image store, so the same loop runs inside the
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
                await RunOneAsync(transport, job, stopping);
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
        var request = stored.ToRequest();
        InpaintOptions? inpaint = null;
        if (assignment.SourcePng is { } sourcePng)
        {
            using var sourceStream = new MemoryStream(sourcePng);
            var source = PngFiles.DecodeStored(sourceStream);
            var mask = MaskFiles.Decode(assignment.MaskPng ?? throw new InvalidDataException("The inpainting job came without its mask."), source.Width, source.Height);
            inpaint = stored.ToInpaintOptions(mask) ?? throw new InvalidDataException("The stored inpainting options could not be read.");
            request = request with { InitImage = source };
        }
        using var lease = models.Acquire(assignment.Model);
        var pipeline = new StableDiffusionPipeline(lease.Model) { PreviewEvery = 1 };
        var throttle = new ProgressThrottle(time);
        var progress = new InlineProgress<GenerationProgress>(p =>
        {
            job.Step = p.Step;
            if (throttle.Due(p.Step, p.TotalSteps, p.Preview is not null, out var withPreview))
            {
                var preview = withPreview ? WebImages.PreviewJpeg(p.Preview!) : null;
                // Progress is advisory: a report that cannot be sent must not stop the run.
                _ = ReportAsync(job, () => transport.ReportProgressAsync(job, p.Step, p.TotalSteps, preview, CancellationToken.None));
            }
        });
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

        var images = new List<DeliveredImage>(result.Images.Count);
        for (var k = 0; k < result.Images.Count; k++)
        {
            var described = GenerationMetadata.Describe(request, assignment.Model, k, inpaint) with { Style = stored.Style, Hires = stored.Hires };
            var png = GenerationMetadata.EncodePng(result.Images[k], described, lease.Model.ModelHash);
            images.Add(new DeliveredImage(k, result.Seeds[k], png) { Pixels = result.Images[k] });
        }
        return (lease.Model.ModelHash, images);
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

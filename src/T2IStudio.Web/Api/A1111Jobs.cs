using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Web.Access;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Api;

/// <summary>The services the A1111 routes use (bound with <c>[AsParameters]</c>).</summary>
/// <param name="Generation">Submits, cancels and reads jobs.</param>
/// <param name="Models">The model catalog.</param>
/// <param name="Tokens">The token's selected model.</param>
/// <param name="Notifier">Job events.</param>
/// <param name="Library">The caller's images.</param>
/// <param name="Store">Image files.</param>
/// <param name="Uploads">The hardened intake for pictures sent in.</param>
/// <param name="Lifecycle">Live previews.</param>
/// <param name="DbFactory">The token's jobs.</param>
/// <param name="Time">The clock.</param>
/// <param name="Logs">For the A1111 log category.</param>
public sealed record A1111Services(
    GenerationService Generation,
    ModelHost Models,
    ApiTokenService Tokens,
    StudioNotifier Notifier,
    ImageLibrary Library,
    ImageStore Store,
    ImageUploads Uploads,
    JobLifecycle Lifecycle,
    IDbContextFactory<AppDbContext> DbFactory,
    TimeProvider Time,
    ILoggerFactory Logs)
{
    /// <summary>The log of the A1111 API.</summary>
    public ILogger Log => Logs.CreateLogger("T2IStudio.Web.Api.A1111");
}

/// <summary>How a synchronous A1111 call's jobs ended.</summary>
/// <param name="Images">The images made, in order (every job's that completed).</param>
/// <param name="Failure">Why a job failed, or null.</param>
/// <param name="Refusal">Why the service refused a job, or null.</param>
/// <param name="Interrupted">A job was cancelled (<c>interrupt</c>); the images made before it are kept.</param>
/// <param name="FirstSubmittedAt">When the first job was submitted.</param>
public sealed record A1111RunOutcome(IReadOnlyList<GeneratedImage> Images, string? Failure, IReadOnlyList<string>? Refusal, bool Interrupted, DateTimeOffset FirstSubmittedAt);

/// <summary>
/// Runs A1111's synchronous calls on the ordinary queue: the images are submitted as jobs of at most
/// <see cref="GenerationLimits.MaxBatchSize"/> images, all of them up front (the fair queue orders them among everyone's;
/// image k has seed + k, as in A1111), and the call waits for them in order. When the service refuses one, the ones
/// already submitted are cancelled and the refusal is the answer. The caller's events are subscribed to before anything
/// is submitted, so no ending is missed; a job's row is read again now and then in case its ending was told elsewhere.
/// A caller that goes away, a job that fails and an interrupt cancel the call's jobs that have not ended.
/// </summary>
public static partial class A1111Jobs
{
    /// <summary>The most images one call may ask for (<c>n_iter × batch_size</c>).</summary>
    public const int MaxImagesPerCall = 64;

    /// <summary>
    /// The most pixels one call may make in all (<c>n_iter × batch_size × width × height</c>): its answer holds every
    /// image as base64, so this bounds the answer (about 16 MP of PNG).
    /// </summary>
    public const long MaxPixelsPerCall = 16L * 1024 * 1024;

    private static readonly TimeSpan Recheck = TimeSpan.FromSeconds(10);

    /// <summary>Submits <paramref name="totalImages"/> images through <paramref name="submit"/> (given each job's request) and waits for them.</summary>
    public static async Task<A1111RunOutcome> RunAsync(A1111Services services, ClaimsPrincipal user, GenerationRequest request, int totalImages,
        Func<GenerationRequest, CancellationToken, Task<SubmitResult>> submit, CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(submit);
        var userId = ResourceAccess.UserId(user) ?? "";
        using var ends = new JobEnds(services.Notifier, userId);
        var images = new List<GeneratedImage>();
        var firstAt = services.Time.GetUtcNow();
        var jobs = new List<Guid>();
        var waited = 0;
        try
        {
            for (var done = 0; done < totalImages;)
            {
                var count = Math.Min(GenerationLimits.MaxBatchSize, totalImages - done);
                var submitted = await submit(request with { Seed = request.Seed + (ulong)done, BatchSize = count }, aborted);
                if (!submitted.Succeeded)
                {
                    await CancelAsync(services, user, jobs);
                    return new A1111RunOutcome(images, null, submitted.Errors, false, firstAt);
                }
                jobs.Add(submitted.JobId!.Value);
                done += count;
            }
            for (; waited < jobs.Count; waited++)
            {
                switch (await WaitForEndAsync(services, ends, user, userId, jobs[waited], aborted))
                {
                    case JobCompleted completed:
                        foreach (var imageId in completed.ImageIds)
                        {
                            if (await services.Library.GetAsync(user, imageId, aborted) is { } image)
                            {
                                images.Add(image);
                            }
                        }
                        break;
                    case JobFailed failed:
                        await CancelAsync(services, user, jobs.Skip(waited + 1));
                        return new A1111RunOutcome(images, failed.Error, null, false, firstAt);
                    default:
                        await CancelAsync(services, user, jobs.Skip(waited + 1));
                        return new A1111RunOutcome(images, null, null, true, firstAt);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            LogCallerLeft(services.Log, jobs.Count - waited);
            await CancelAsync(services, user, jobs.Skip(waited));
            throw;
        }
        return new A1111RunOutcome(images, null, null, false, firstAt);
    }

    /// <summary>Writes A1111's <c>{"images": [...], "parameters": ..., "info": "..."}</c> answer, reading and encoding one PNG at a time.</summary>
    public static async Task WriteImagesAsync<TParameters>(HttpContext context, ImageStore store, IEnumerable<GeneratedImage> images, TParameters parameters, string info)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(images);
        var cancellationToken = context.RequestAborted;
        var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteStartArray("images");
        foreach (var image in images)
        {
            // One file in memory at a time, written straight out as base64.
            writer.WriteBase64StringValue(await store.ReadAsync(image.FileKey, cancellationToken));
            await writer.FlushAsync(cancellationToken);
        }
        writer.WriteEndArray();
        writer.WritePropertyName("parameters");
        // Serialising into the writer would flush it synchronously; the echo is small (it holds no picture).
        writer.WriteRawValue(JsonSerializer.SerializeToUtf8Bytes(parameters, options), skipInputValidation: true);
        writer.WriteString("info", info);
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>A1111's <c>job_timestamp</c> form of <paramref name="at"/> (UTC).</summary>
    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    private static async Task<JobEvent> WaitForEndAsync(A1111Services services, JobEnds ends, ClaimsPrincipal user, string userId, Guid jobId, CancellationToken aborted)
    {
        var end = ends.Of(jobId);
        while (true)
        {
            using var pause = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            var recheck = Task.Delay(Recheck, services.Time, pause.Token);
            if (await Task.WhenAny(end, recheck) == end)
            {
                await pause.CancelAsync();
                return await end;
            }
            aborted.ThrowIfCancellationRequested();
            // No ending heard yet: a job that ended where this node could not hear it still has its row.
            var view = await services.Generation.GetJobAsync(user, jobId, aborted);
            switch (view?.Status)
            {
                case null:
                    return new JobFailed(jobId, userId, "The job is gone.");
                case JobStatus.Completed:
                    return new JobCompleted(jobId, userId, view.ImageIds);
                case JobStatus.Failed:
                    return new JobFailed(jobId, userId, view.Error ?? "The job failed.");
                case JobStatus.Canceled:
                    return new JobCanceled(jobId, userId);
            }
        }
    }

    private static async Task CancelAsync(A1111Services services, ClaimsPrincipal user, IEnumerable<Guid> jobs)
    {
        foreach (var jobId in jobs.ToList())
        {
            await services.Generation.CancelAsync(user, jobId, CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "An A1111 caller went away; its {Count} unfinished jobs are cancelled")]
    private static partial void LogCallerLeft(ILogger logger, int count);

    /// <summary>The endings (completed, failed, cancelled) of one person's jobs, heard from the moment it is made.</summary>
    private sealed class JobEnds : IDisposable
    {
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<JobEvent>> _ends = new();
        private readonly IDisposable _subscription;

        public JobEnds(StudioNotifier notifier, string userId)
        {
            _subscription = notifier.Subscribe(userId, e =>
            {
                if (e is JobCompleted or JobFailed or JobCanceled)
                {
                    var ended = (JobEvent)e;
                    Slot(ended.JobId).TrySetResult(ended);
                }
                return Task.CompletedTask;
            });
        }

        public Task<JobEvent> Of(Guid jobId) => Slot(jobId).Task;

        public void Dispose() => _subscription.Dispose();

        private TaskCompletionSource<JobEvent> Slot(Guid jobId) =>
            _ends.GetOrAdd(jobId, _ => new TaskCompletionSource<JobEvent>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}

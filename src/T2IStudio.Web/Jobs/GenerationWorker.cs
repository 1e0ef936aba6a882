using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Jobs;

/// <summary>
/// The in-process worker (<see cref="QueueOptions.RunWorker"/>, on by default): this process's device joins the
/// worker registry like any remote worker and runs the shared <see cref="WorkerLoop"/> through an in-process
/// transport that calls the <see cref="JobLifecycle"/> directly. Stopping the app releases its job back to the line.
/// </summary>
public sealed partial class GenerationWorker(
    WorkerLoop loop,
    JobLifecycle lifecycle,
    WorkerRegistry registry,
    ModelHost models,
    IOptions<QueueOptions> options,
    IOptions<WorkersOptions> workerOptions,
    IHostEnvironment environment,
    IOptions<ClusterOptions> cluster,
    ILogger<GenerationWorker> logger) : BackgroundService
{
    /// <summary>
    /// The in-process worker's id: the same on every start of this node (machine, content root and
    /// <c>Cluster:NodeName</c> when set), so the start-up recovery knows which running jobs were this process's own,
    /// and two named nodes on one machine never take each other's running jobs for their own.
    /// </summary>
    /// <param name="contentRoot">The node's content root.</param>
    /// <param name="nodeName"><c>Cluster:NodeName</c>; unset keeps the id of a single node.</param>
    public static Guid InProcessWorkerId(string contentRoot, string? nodeName = null)
    {
        var node = string.IsNullOrWhiteSpace(nodeName) ? "" : $":node:{nodeName.Trim()}";
        return new(SHA256.HashData(Encoding.UTF8.GetBytes($"in-process:{Environment.MachineName}:{Path.GetFullPath(contentRoot)}{node}"))[..16]);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunWorker)
        {
            LogNoWorker();
            return;
        }
        var transport = new InProcessWorkerTransport(lifecycle, TimeSpan.FromSeconds(workerOptions.Value.HeartbeatSeconds));
        var hello = new WorkerHello(
            InProcessWorkerId(environment.ContentRootPath, cluster.Value.NodeName),
            $"{Environment.MachineName} (in process)",
            models.Device.Active.Name,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
            [.. WorkerModels.Of(models)],
            typeof(GenerationWorker).Assembly.GetName().Version?.ToString() ?? "");
        var session = registry.Join(hello, WorkerKind.InProcess, transport.StopAsync);
        transport.Session = session;
        try
        {
            await loop.RunAsync(transport, stoppingToken);
        }
        finally
        {
            await lifecycle.WorkerLeftAsync(session, "the app is stopping");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No in-process worker (Queue:RunWorker=false): jobs run on remote workers only")]
    private partial void LogNoWorker();
}

/// <summary>The in-process worker's transport: straight calls into the <see cref="JobLifecycle"/>.</summary>
internal sealed class InProcessWorkerTransport(JobLifecycle lifecycle, TimeSpan heartbeatInterval) : IWorkerTransport
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, LeasedJob> _current = new();

    public WorkerSession Session { get; set; } = null!;

    public TimeSpan HeartbeatInterval => heartbeatInterval;

    public async Task<LeasedJob?> NextJobAsync(CancellationToken cancellationToken)
    {
        var assignment = await lifecycle.LeaseNextAsync(Session, cancellationToken);
        var job = new LeasedJob(assignment);
        _current[job.JobId] = job;
        return job;
    }

    public async Task<IReadOnlyList<LeasedJob>> JoinBatchAsync(LeasedJob head, BatchOffer offer, CancellationToken cancellationToken)
    {
        var assignments = await lifecycle.JoinBatchAsync(Session, head.JobId, head.Assignment.LeaseId, offer, cancellationToken);
        return [.. assignments.Select(assignment =>
        {
            var job = new LeasedJob(assignment);
            _current[job.JobId] = job;
            return job;
        })];
    }

    public Task ReportProgressAsync(LeasedJob job, int step, int totalSteps, byte[]? previewJpeg, CancellationToken cancellationToken)
    {
        lifecycle.ReportProgress(Session, job.JobId, job.Assignment.LeaseId, step, totalSteps, previewJpeg);
        return Task.CompletedTask;
    }

    public Task<bool> HeartbeatAsync(LeasedJob job, CancellationToken cancellationToken) =>
        lifecycle.HeartbeatAsync(Session, job.JobId, job.Assignment.LeaseId, cancellationToken);

    public Task<DeliveryReceipt> DeliverAsync(LeasedJob job, string modelHash, IReadOnlyList<DeliveredImage> images, CancellationToken cancellationToken) =>
        Ended(job, lifecycle.CompleteAsync(Session, job.JobId, job.Assignment.LeaseId, modelHash, images, cancellationToken));

    public Task ReportFailureAsync(LeasedJob job, string error, int step, CancellationToken cancellationToken) =>
        Ended(job, lifecycle.FailAsync(Session, job.JobId, job.Assignment.LeaseId, error, step, cancellationToken));

    public Task ReportStoppedAsync(LeasedJob job, int step, CancellationToken cancellationToken) =>
        Ended(job, lifecycle.StoppedAsync(Session, job.JobId, job.Assignment.LeaseId, step, cancellationToken));

    public Task ReleaseAsync(LeasedJob job, CancellationToken cancellationToken) =>
        Ended(job, lifecycle.ReleaseAsync(Session, job.JobId, job.Assignment.LeaseId, cancellationToken));

    /// <summary>The lifecycle asks this worker to stop <paramref name="jobId"/>.</summary>
    public Task StopAsync(Guid jobId)
    {
        if (_current.TryGetValue(jobId, out var job))
        {
            job.Stop();
        }
        return Task.CompletedTask;
    }

    private async Task<T> Ended<T>(LeasedJob job, Task<T> report)
    {
        try
        {
            return await report;
        }
        finally
        {
            _current.TryRemove(new KeyValuePair<Guid, LeasedJob>(job.JobId, job));
        }
    }
}

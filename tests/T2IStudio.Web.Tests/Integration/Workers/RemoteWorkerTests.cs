using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;
using T2IStudio.Worker;

namespace T2IStudio.Web.Tests.Integration.Workers;

/// <summary>
/// The worker's own SignalR transport and the shared loop against a web node with no in-process worker: a job
/// is leased over the hub, run, its images streamed back and stored.
/// </summary>
public sealed class RemoteWorkerTests : IAsyncLifetime
{
    private const string Key = "remote-worker-test-key-0123456789abcdef";
    private readonly StudioAppFactory _app = new(settings: new Dictionary<string, string?>
    {
        ["Workers:Keys:0"] = Key,
        ["Queue:RunWorker"] = "false",
        ["Workers:MaxImageMegabytes"] = "1",
        ["Generation:MaxBatch"] = "4",
    });
    private readonly CancellationTokenSource _stop = new();
    private SignalRWorkerTransport? _transport;
    private Task? _loop;

    public async Task InitializeAsync()
    {
        var server = _app.Server;
        var models = _app.Services.GetRequiredService<ModelHost>();
        Hello = new WorkerHello(Guid.NewGuid(), "remote box", "cpu", null, [.. models.Catalog.List().Select(m => m.Id)], "test");
        _transport = new SignalRWorkerTransport([new Uri(server.BaseAddress, WorkerHubNames.Path)], Key, Hello, NullLogger<SignalRWorkerTransport>.Instance, options =>
        {
            options.HttpMessageHandlerFactory = _ => server.CreateHandler();
            options.Transports = HttpTransportType.LongPolling;
        });
        await _transport.ConnectAsync(CancellationToken.None);
    }

    private void StartLoop(IWorkerTransport transport)
    {
        var loop = new WorkerLoop(_app.Services.GetRequiredService<ModelHost>(), TimeProvider.System, NullLogger<WorkerLoop>.Instance);
        _loop = loop.RunAsync(transport, _stop.Token);
    }

    private WorkerHello Hello { get; set; } = null!;

    [Fact]
    public async Task A_job_runs_on_the_remote_worker_and_its_images_are_stored()
    {
        var owner = await _app.CreateUserAsync("remote-owner@example.test");
        StartLoop(_transport!);

        var (jobId, imageIds) = await _app.GenerateAsync(owner, GenerationQueueTests.Request(steps: 2, batch: 2));

        Assert.Equal(2, imageIds.Count);
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
        Assert.Equal("remote box", job.WorkerName);
        Assert.Equal(2, await db.Images.CountAsync(i => i.JobId == jobId));
        var session = _app.Services.GetRequiredService<WorkerRegistry>().Find(Hello.WorkerId.ToString("N"));
        Assert.NotNull(session);
        Assert.Equal(1, session.JobsDone);
    }

    [Fact]
    public async Task Jobs_of_three_people_waiting_together_run_in_one_batch_on_the_remote_worker_each_with_the_images_it_gets_alone()
    {
        var owners = new[] { await _app.CreateUserAsync("batch-a@example.test"), await _app.CreateUserAsync("batch-b@example.test"), await _app.CreateUserAsync("batch-c@example.test") };
        var jobs = new List<Guid>();
        using (var scope = _app.Services.CreateScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
            for (var i = 0; i < owners.Length; i++)
            {
                jobs.Add((await service.SubmitAsync(StudioAppFactory.PrincipalOf(owners[i]), GenerationQueueTests.Request($"a batch picture {i}", steps: 4, seed: (ulong)(10 + i)))).JobId!.Value);
            }
        }

        StartLoop(_transport!); // the three wait already: the worker leases the first and the other two beside it
        await JobWaiter.WaitForRowsAsync(_app.Services, owners[^1].Id, rows => rows.Count(r => jobs.Contains(r.Id) && r.Status == JobStatus.Completed) == jobs.Count);

        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var rows = await db.Jobs.Where(j => jobs.Contains(j.Id)).ToListAsync();
        // One batch: every job started before the first one finished.
        Assert.All(rows, r => Assert.True(r.StartedAt <= rows.Min(x => x.FinishedAt), "a job started only after another finished: they ran one by one"));
        var model = _app.Services.GetRequiredService<ModelHost>();
        using var lease = model.Acquire("t2istudio-tiny");
        var pipeline = new T2IStudio.Generation.Pipelines.StableDiffusionPipeline(lease.Model) { PreviewEvery = 0 };
        for (var i = 0; i < owners.Length; i++)
        {
            var image = await db.Images.SingleAsync(im => im.JobId == jobs[i]);
            Assert.Equal(owners[i].Id, image.OwnerId);
            var alone = await pipeline.GenerateAsync(GenerationQueueTests.Request($"a batch picture {i}", steps: 4, seed: (ulong)(10 + i)).Request);
            await using var file = File.OpenRead(_app.Services.GetRequiredService<T2IStudio.Web.Storage.ImageStore>().PathOf(image.FileKey));
            var stored = T2IStudio.Generation.Imaging.PngFiles.DecodeStored(file);
            Assert.Equal(alone.Images[0].Pixels, stored.Pixels);
        }
    }

    [Fact]
    public async Task A_cancel_reaches_the_remote_worker_and_stops_the_job_part_way()
    {
        var owner = await _app.CreateUserAsync("remote-canceller@example.test");
        using var waiter = new JobWaiter(_app.Services, owner.Id);
        // The worker's first progress report holds its pipeline thread until the cancel is in, so the job cannot
        // finish first however fast the machine is; the Stop then travels over the hub like any other.
        using var cancelIssued = new ManualResetEventSlim();
        StartLoop(new HoldAtFirstProgress(_transport!, cancelIssued));
        using var scope = _app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var principal = StudioAppFactory.PrincipalOf(owner);

        var running = (await service.SubmitAsync(principal, GenerationQueueTests.Request(steps: 150))).JobId!.Value;
        await waiter.WaitForAsync<JobProgress>(running);
        Assert.Equal(CancelOutcome.Stopping, await service.CancelAsync(principal, running));
        cancelIssued.Set();
        await waiter.WaitForAsync<JobCanceled>(running);

        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var job = await db.Jobs.SingleAsync(j => j.Id == running);
        Assert.Equal(JobStatus.Canceled, job.Status);
        Assert.InRange(job.Step, 1, 149);
        Assert.Empty(await db.Images.Where(i => i.JobId == running).ToListAsync());
    }

    [Fact]
    public async Task An_upload_over_the_caps_is_refused_and_the_job_stays_with_its_worker()
    {
        var owner = await _app.CreateUserAsync("remote-uploader@example.test");
        var server = _app.Server;
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, WorkerHubNames.Path), options =>
            {
                options.HttpMessageHandlerFactory = _ => server.CreateHandler();
                options.Transports = HttpTransportType.LongPolling;
                options.AccessTokenProvider = () => Task.FromResult<string?>(Key);
            })
            .Build();
        var assigned = new TaskCompletionSource<JobAssignment>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onAssign = connection.On<JobAssignment>(WorkerHubNames.Assign, a => assigned.TrySetResult(a));
        await connection.StartAsync();
        await connection.InvokeAsync<WorkerWelcome>(WorkerHubNames.Hello, Hello with { WorkerId = Guid.NewGuid(), Name = "uploader" });
        await connection.InvokeAsync(WorkerHubNames.Ready);
        using var scope = _app.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(StudioAppFactory.PrincipalOf(owner), GenerationQueueTests.Request(steps: 1));
        var job = await assigned.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var tooBig = await connection.InvokeAsync<DeliveryReceipt>(WorkerHubNames.UploadImage, job.JobId, job.LeaseId, 0, 42UL, Chunks(17, WorkerHubNames.ChunkBytes));
        var tooFat = await connection.InvokeAsync<DeliveryReceipt>(WorkerHubNames.UploadImage, job.JobId, job.LeaseId, 0, 42UL, Chunks(1, WorkerHubNames.ChunkBytes + 1));

        Assert.False(tooBig.Accepted);
        Assert.Equal("Image 0 is larger than 1 MiB.", tooBig.Reason);
        Assert.False(tooFat.Accepted);
        Assert.Contains("chunk", tooFat.Reason, StringComparison.Ordinal);
        Assert.True(await connection.InvokeAsync<bool>(WorkerHubNames.Heartbeat, job.JobId, job.LeaseId));
    }

    private static async IAsyncEnumerable<byte[]> Chunks(int count, int size)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return new byte[size];
        }
    }

    /// <summary>Passes everything through; the first progress report blocks its caller until <c>release</c> is set.</summary>
    private sealed class HoldAtFirstProgress(IWorkerTransport inner, ManualResetEventSlim release) : IWorkerTransport
    {
        private int _held;

        public TimeSpan HeartbeatInterval => inner.HeartbeatInterval;

        public Task<LeasedJob?> NextJobAsync(CancellationToken cancellationToken) => inner.NextJobAsync(cancellationToken);

        public Task<IReadOnlyList<LeasedJob>> JoinBatchAsync(LeasedJob head, BatchOffer offer, CancellationToken cancellationToken) =>
            inner.JoinBatchAsync(head, offer, cancellationToken);

        public Task ReportProgressAsync(LeasedJob job, int step, int totalSteps, byte[]? previewJpeg, CancellationToken cancellationToken)
        {
            var sent = inner.ReportProgressAsync(job, step, totalSteps, previewJpeg, cancellationToken);
            if (Interlocked.Exchange(ref _held, 1) == 0)
            {
                release.Wait(TimeSpan.FromMinutes(2), CancellationToken.None);
            }
            return sent;
        }

        public Task<bool> HeartbeatAsync(LeasedJob job, CancellationToken cancellationToken) => inner.HeartbeatAsync(job, cancellationToken);

        public Task<DeliveryReceipt> DeliverAsync(LeasedJob job, string modelHash, IReadOnlyList<DeliveredImage> images, CancellationToken cancellationToken) =>
            inner.DeliverAsync(job, modelHash, images, cancellationToken);

        public Task ReportFailureAsync(LeasedJob job, string error, int step, CancellationToken cancellationToken) => inner.ReportFailureAsync(job, error, step, cancellationToken);

        public Task ReportStoppedAsync(LeasedJob job, int step, CancellationToken cancellationToken) => inner.ReportStoppedAsync(job, step, cancellationToken);

        public Task ReleaseAsync(LeasedJob job, CancellationToken cancellationToken) => inner.ReleaseAsync(job, cancellationToken);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        if (_transport is not null)
        {
            await _transport.DisposeAsync();
        }
        _stop.Dispose();
        await _app.DisposeAsync();
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Workers;

namespace T2IStudio.Generation.Tests.Workers;

/// <summary>
/// The worker loop's side of cross-user batching, on the embedded model: it asks for companions only when batching
/// is on and there is room, runs them in one batch, and ends each job on its own — with its own images, or stopped,
/// or failed — as a transport sees it.
/// </summary>
public sealed class WorkerLoopBatchTests
{
    private const string Model = EmbeddedModel.EmbeddedModel.Id;

    private static ModelHost Host(int maxBatch) => new(
        Options.Create(new GenerationOptions { ModelRoots = [Path.GetDirectoryName(EmbeddedModel.EmbeddedModel.Folder)!], Device = DevicePreference.Cpu, MaxBatch = maxBatch }),
        new HostingEnvironment { ContentRootPath = RepositoryRoot.Path }, TimeProvider.System, NullLogger<ModelHost>.Instance);

    private static GenerationRequest Request(string prompt, ulong seed, double guidance, int images = 1) => new()
    {
        Prompt = prompt,
        Steps = 5,
        GuidanceScale = guidance,
        Width = 64,
        Height = 64,
        Seed = seed,
        BatchSize = images,
        Scheduler = SchedulerKind.EulerAncestral,
    };

    private static LeasedJob Job(GenerationRequest request, string? json = null) => new(new JobAssignment(
        Guid.NewGuid(), Guid.NewGuid(), Model,
        json ?? GenerationMetadata.ToJson(GenerationMetadata.Describe(request, Model, 0) with { BatchSize = request.BatchSize }),
        null, null, 1));

    private static async Task<GenerationResult> Alone(GenerationRequest request) =>
        await new StableDiffusionPipeline(EmbeddedModel.EmbeddedModel.Model) { PreviewEvery = 0 }.GenerateAsync(request);

    private static async Task RunAsync(ModelHost host, TestTransport transport)
    {
        var loop = new WorkerLoop(host, TimeProvider.System, NullLogger<WorkerLoop>.Instance);
        await loop.RunAsync(transport, CancellationToken.None);
    }

    [Fact]
    public async Task A_head_and_its_companions_run_together_and_each_job_delivers_its_own_images()
    {
        GenerationRequest[] requests = [Request("a red circle", 1, 7), Request("a blue square", 2, 4, images: 2), Request("a green circle", 3, 9)];
        var jobs = requests.Select(r => Job(r)).ToArray();
        using var host = Host(maxBatch: 4);
        var transport = new TestTransport(jobs[0], [jobs[1], jobs[2]]);

        await RunAsync(host, transport);

        Assert.Equal(3, transport.Offers.Single().MaxImages); // 4 images a call, the head has 1
        for (var j = 0; j < jobs.Length; j++)
        {
            var delivered = transport.Delivered[jobs[j].JobId];
            var alone = await Alone(requests[j]);
            Assert.Equal(alone.Seeds, delivered.Select(d => d.Seed));
            Assert.Equal(alone.Images.Select(i => i.Pixels), delivered.Select(d => d.Pixels!.Pixels));
            Assert.Contains(transport.Progress, p => p.JobId == jobs[j].JobId && p.Step == 5);
        }
        Assert.Empty(transport.Failures);
    }

    [Fact]
    public async Task With_MaxBatch_1_the_worker_never_asks_for_companions()
    {
        var job = Job(Request("a red circle", 1, 7));
        using var host = Host(maxBatch: 1);
        var transport = new TestTransport(job, []);

        await RunAsync(host, transport);

        Assert.Empty(transport.Offers);
        Assert.Single(transport.Delivered[job.JobId]);
    }

    [Fact]
    public async Task A_head_that_fills_the_limit_or_is_a_hires_fix_runs_alone()
    {
        var full = Job(Request("a red circle", 1, 7, images: 4));
        var hiresRequest = GenerationMetadata.Describe(Request("a red circle", 1, 7), Model, 0) with { BatchSize = 1, Hires = new HiresOptions { Scale = 2 } };
        var hires = Job(Request("a red circle", 1, 7), GenerationMetadata.ToJson(hiresRequest));
        using var host = Host(maxBatch: 4);

        var first = new TestTransport(full, []);
        await RunAsync(host, first);
        var second = new TestTransport(hires, []);
        await RunAsync(host, second);

        Assert.Empty(first.Offers);
        Assert.Empty(second.Offers);
        Assert.Equal(4, first.Delivered[full.JobId].Count);
        Assert.Single(second.Delivered[hires.JobId]);
    }

    [Fact]
    public async Task Cancelling_one_job_of_a_batch_stops_it_alone()
    {
        GenerationRequest[] requests = [Request("a red circle", 1, 7), Request("a blue square", 2, 4), Request("a green circle", 3, 9)];
        var jobs = requests.Select(r => Job(r)).ToArray();
        using var host = Host(maxBatch: 4);
        var transport = new TestTransport(jobs[0], [jobs[1], jobs[2]]) { StopAtFirstProgress = jobs[1].JobId };

        await RunAsync(host, transport);

        Assert.Contains(jobs[1].JobId, transport.Stopped);
        Assert.False(transport.Delivered.ContainsKey(jobs[1].JobId));
        Assert.Equal((await Alone(requests[0])).Images[0].Pixels, transport.Delivered[jobs[0].JobId][0].Pixels!.Pixels);
        Assert.Equal((await Alone(requests[2])).Images[0].Pixels, transport.Delivered[jobs[2].JobId][0].Pixels!.Pixels);
        Assert.Empty(transport.Failures);
    }

    [Fact]
    public async Task A_companion_that_cannot_be_read_fails_alone_and_the_batch_runs()
    {
        var head = Job(Request("a red circle", 1, 7));
        var broken = Job(Request("a blue square", 2, 4), json: "{not json");
        using var host = Host(maxBatch: 4);
        var transport = new TestTransport(head, [broken]);

        await RunAsync(host, transport);

        Assert.Equal("The stored request could not be read.", transport.Failures[broken.JobId]);
        Assert.Single(transport.Delivered[head.JobId]);
    }

    [Theory]
    [InlineData(8, 512, 512, 8)]
    [InlineData(8, 1024, 1024, 2)]
    [InlineData(8, 64, 64, 8)]
    [InlineData(4, 2048, 2048, 1)]
    [InlineData(1, 256, 256, 1)]
    public void The_batch_limit_counts_512_pixel_images(int limit, int width, int height, int expected) =>
        Assert.Equal(expected, WorkerLoop.BatchLimit(limit, width, height));

    /// <summary>Hands out one head, then its companions when asked, and records every report.</summary>
    private sealed class TestTransport(LeasedJob head, IReadOnlyList<LeasedJob> companions) : IWorkerTransport
    {
        private int _handedOut;

        public Guid? StopAtFirstProgress { get; init; }

        public List<BatchOffer> Offers { get; } = [];

        public ConcurrentBag<(Guid JobId, int Step)> Progress { get; } = [];

        public ConcurrentDictionary<Guid, IReadOnlyList<DeliveredImage>> Delivered { get; } = new();

        public ConcurrentDictionary<Guid, string> Failures { get; } = new();

        public ConcurrentBag<Guid> Stopped { get; } = [];

        public TimeSpan HeartbeatInterval => TimeSpan.FromMinutes(5);

        public Task<LeasedJob?> NextJobAsync(CancellationToken cancellationToken) =>
            Task.FromResult(Interlocked.Exchange(ref _handedOut, 1) == 0 ? head : null);

        public Task<IReadOnlyList<LeasedJob>> JoinBatchAsync(LeasedJob headJob, BatchOffer offer, CancellationToken cancellationToken)
        {
            Assert.Same(head, headJob);
            Offers.Add(offer);
            return Task.FromResult(companions);
        }

        public Task ReportProgressAsync(LeasedJob job, int step, int totalSteps, byte[]? previewJpeg, CancellationToken cancellationToken)
        {
            Progress.Add((job.JobId, step));
            if (job.JobId == StopAtFirstProgress)
            {
                job.Stop();
            }
            return Task.CompletedTask;
        }

        public Task<bool> HeartbeatAsync(LeasedJob job, CancellationToken cancellationToken) => Task.FromResult(true);

        public Task<DeliveryReceipt> DeliverAsync(LeasedJob job, string modelHash, IReadOnlyList<DeliveredImage> images, CancellationToken cancellationToken)
        {
            Delivered[job.JobId] = images;
            return Task.FromResult(DeliveryReceipt.Stored);
        }

        public Task ReportFailureAsync(LeasedJob job, string error, int step, CancellationToken cancellationToken)
        {
            Failures[job.JobId] = error;
            return Task.CompletedTask;
        }

        public Task ReportStoppedAsync(LeasedJob job, int step, CancellationToken cancellationToken)
        {
            Stopped.Add(job.JobId);
            return Task.CompletedTask;
        }

        public Task ReleaseAsync(LeasedJob job, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

using Microsoft.AspNetCore.Http.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Data;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Workers;
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
    });
    private readonly CancellationTokenSource _stop = new();
    private SignalRWorkerTransport? _transport;
    private Task? _loop;

    public async Task InitializeAsync()
    {
        var server = _app.Server;
        var models = _app.Services.GetRequiredService<ModelHost>();
        Hello = new WorkerHello(Guid.NewGuid(), "remote box", "cpu", null, [.. models.Catalog.List().Select(m => m.Id)], "test");
        _transport = new SignalRWorkerTransport(new Uri(server.BaseAddress, WorkerHubNames.Path), Key, Hello, NullLogger<SignalRWorkerTransport>.Instance, options =>
        {
            options.HttpMessageHandlerFactory = _ => server.CreateHandler();
            options.Transports = HttpTransportType.LongPolling;
        });
        await _transport.ConnectAsync(CancellationToken.None);
        var loop = new WorkerLoop(models, TimeProvider.System, NullLogger<WorkerLoop>.Instance);
        _loop = loop.RunAsync(_transport, _stop.Token);
    }

    private WorkerHello Hello { get; set; } = null!;

    [Fact]
    public async Task A_job_runs_on_the_remote_worker_and_its_images_are_stored()
    {
        var owner = await _app.CreateUserAsync("remote-owner@example.test");

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

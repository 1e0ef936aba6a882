using Microsoft.AspNetCore.Http.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;
using T2IStudio.Worker;

namespace T2IStudio.Web.Tests.Integration.Workers;

/// <summary>
/// Cross-user batching over <c>/hubs/workers</c>: the worker's own SignalR transport leases companions beside the
/// head it was assigned, reports on each under its own lease, and a cancel reaches the one job it names.
/// </summary>
public sealed class BatchHubTests : IAsyncLifetime
{
    private const string Key = "batch-hub-test-key-0123456789abcdef";
    private readonly StudioAppFactory _app = new(settings: new Dictionary<string, string?>
    {
        ["Workers:Keys:0"] = Key,
        ["Queue:RunWorker"] = "false",
    });
    private SignalRWorkerTransport? _transport;
    private WorkerHello _hello = null!;

    public async Task InitializeAsync()
    {
        var server = _app.Server;
        _hello = new WorkerHello(Guid.NewGuid(), "batch box", "cpu", null, ["t2istudio-tiny"], "test");
        _transport = new SignalRWorkerTransport([new Uri(server.BaseAddress, WorkerHubNames.Path)], Key, _hello, NullLogger<SignalRWorkerTransport>.Instance, options =>
        {
            options.HttpMessageHandlerFactory = _ => server.CreateHandler();
            options.Transports = HttpTransportType.LongPolling;
        });
        await _transport.ConnectAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_remote_worker_leases_companions_over_the_hub_and_a_cancel_stops_only_the_job_it_names()
    {
        var head = await SubmitAsync("hub-head@example.test");
        var other = await SubmitAsync("hub-other@example.test", size: 128);
        var first = await SubmitAsync("hub-first@example.test");
        var second = await SubmitAsync("hub-second@example.test");

        using var leased = (await _transport!.NextJobAsync(CancellationToken.None))!;
        var companions = await _transport.JoinBatchAsync(leased, new BatchOffer(8), CancellationToken.None);

        Assert.Equal(head, leased.JobId);
        Assert.Equal([first, second], companions.Select(c => c.JobId));
        Assert.Empty(await _transport.JoinBatchAsync(leased, new BatchOffer(8), CancellationToken.None)); // formed already
        foreach (var job in companions.Prepend(leased))
        {
            Assert.True(await _transport.HeartbeatAsync(job, CancellationToken.None));
        }
        var session = _app.Services.GetRequiredService<WorkerRegistry>().Find(_hello.WorkerId.ToString("N"))!;
        Assert.Equal([head, .. new[] { first, second }.Order()], session.RunningJobs.Select(j => j.JobId)); // the head, then its batch by id

        Assert.Equal(CancelOutcome.Stopping, await _app.Services.GetRequiredService<JobLifecycle>().CancelAsync(first));
        await companions[0].Token.WaitHandle.WaitOneAsync();
        Assert.False(leased.Token.IsCancellationRequested);
        Assert.False(companions[1].Token.IsCancellationRequested);
        await _transport.ReportStoppedAsync(companions[0], 0, CancellationToken.None);
        await _transport.ReleaseAsync(companions[1], CancellationToken.None);
        await _transport.ReleaseAsync(leased, CancellationToken.None);

        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var rows = await db.Jobs.AsNoTracking().ToDictionaryAsync(j => j.Id, j => j.Status);
        Assert.Equal(JobStatus.Canceled, rows[first]);
        Assert.Equal([JobStatus.Queued, JobStatus.Queued, JobStatus.Queued], new[] { rows[head], rows[second], rows[other] });
        foreach (var job in companions)
        {
            job.Dispose();
        }
    }

    public async Task DisposeAsync()
    {
        if (_transport is not null)
        {
            await _transport.DisposeAsync();
        }
        await _app.DisposeAsync();
    }

    private async Task<Guid> SubmitAsync(string email, int size = 64)
    {
        var user = await _app.CreateUserAsync(email);
        using var scope = _app.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(StudioAppFactory.PrincipalOf(user), new JobRequest
        {
            Model = "t2istudio-tiny",
            Request = new GenerationRequest { Prompt = $"a batch over the hub for {email}", Steps = 8, Width = size, Height = size, Seed = 42, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim },
        });
        Assert.True(result.Succeeded, string.Join(" ", result.Errors));
        return result.JobId!.Value;
    }
}

internal static class WaitHandleExtensions
{
    /// <summary>Completes when <paramref name="handle"/> is set, with a generous bound so a broken stop fails rather than hangs.</summary>
    public static Task WaitOneAsync(this WaitHandle handle) =>
        Task.Run(() => Assert.True(handle.WaitOne(TimeSpan.FromSeconds(30)), "the stop never reached the job"));
}

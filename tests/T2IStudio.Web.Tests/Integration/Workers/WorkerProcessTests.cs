using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Integration.Workers;

/// <summary>
/// The web app on a real Kestrel port with no worker of its own (<c>Queue:RunWorker=false</c>, a key in
/// <c>Workers:Keys</c>), and real <c>T2IStudio.Worker</c> processes connected to it over loopback: jobs
/// submitted through the app's own service run only on them, in fair order, survive a worker killed mid-job,
/// and can be cancelled there.
/// </summary>
[Collection(WorkerProcessesRunAlone.Name)]
public sealed class WorkerProcessTests
{
    private const string Key = "test-worker-key-0123456789abcdef0123456789";

    [Fact]
    public async Task Two_worker_processes_both_take_jobs_and_run_three_peoples_jobs_in_fair_order()
    {
        using var web = WebNode.Start();
        var alice = await web.App.CreateUserAsync("alice@example.test");
        var bob = await web.App.CreateUserAsync("bob@example.test");
        var carol = await web.App.CreateUserAsync("carol@example.test");
        var service = web.Service;
        // Everything is queued before any worker joins, so the order the workers are handed jobs in is the fair order.
        var jobs = new Dictionary<string, Guid>();
        for (var i = 0; i < 4; i++)
        {
            jobs[$"a{i}"] = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(alice), Request(seed: (ulong)i))).JobId!.Value;
        }
        for (var i = 0; i < 2; i++)
        {
            jobs[$"b{i}"] = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(bob), Request(seed: 10 + (ulong)i))).JobId!.Value;
        }
        jobs["c0"] = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(carol), Request(seed: 20))).JobId!.Value;

        using var one = WorkerProcess.Start(web.Url, Key, "worker-one");
        using var two = WorkerProcess.Start(web.Url, Key, "worker-two");
        await Task.WhenAll(one.WaitUntilReadyAsync(), two.WaitUntilReadyAsync());
        var rows = await web.WaitForRowsAsync(all => all.Count == 7 && all.All(j => j.Status == JobStatus.Completed), one, two);

        var started = rows.OrderBy(j => j.StartedAt).Select(j => jobs.Single(p => p.Value == j.Id).Key).ToList();
        Assert.Equal(["a0", "b0", "c0", "a1", "b1", "a2", "a3"], started);
        Assert.Equal(["worker-one", "worker-two"], rows.Select(j => j.WorkerName!).Distinct().Order());
        Assert.All(rows, j => Assert.Equal(1, j.Attempts));
        await using var db = await web.CreateDbContextAsync();
        Assert.Equal(7, await db.Images.CountAsync());
        Assert.All(web.App.Services.GetRequiredService<WorkerRegistry>().Sessions, s => Assert.Equal(WorkerKind.Remote, s.Kind));
    }

    [Fact]
    public async Task A_worker_killed_mid_job_loses_it_to_another_which_makes_the_same_png_an_uninterrupted_run_makes_and_nothing_twice()
    {
        using var web = WebNode.Start();
        var user = await web.App.CreateUserAsync("survivor@example.test");
        using var waiter = new JobWaiter(web.App.Services, user.Id);
        var principal = StudioAppFactory.PrincipalOf(user);

        using var doomed = WorkerProcess.Start(web.Url, Key, "doomed");
        await doomed.WaitUntilReadyAsync();
        var job = (await web.Service.SubmitAsync(principal, Request(steps: 150, size: 128, seed: 77))).JobId!.Value;
        await waiter.WaitForAsync<JobProgress>(job);
        doomed.Kill();
        // Its connection dropped: the job is back at the front of its owner's line, the attempt counted.
        await web.WaitForRowsAsync(rows => rows.Single(j => j.Id == job) is { Status: JobStatus.Queued, Attempts: 1, LeaseId: null }, doomed);

        using var rescuer = WorkerProcess.Start(web.Url, Key, "rescuer");
        await rescuer.WaitUntilReadyAsync();
        await waiter.WaitForAsync<JobCompleted>(job);
        // The same request, run once from start to end by a worker nobody killed.
        var reference = (await web.Service.SubmitAsync(principal, Request(steps: 150, size: 128, seed: 77))).JobId!.Value;
        await waiter.WaitForAsync<JobCompleted>(reference);

        await using var db = await web.CreateDbContextAsync();
        var row = await db.Jobs.Include(j => j.Images).SingleAsync(j => j.Id == job);
        Assert.Equal(JobStatus.Completed, row.Status);
        Assert.Equal(2, row.Attempts);
        Assert.Equal("rescuer", row.WorkerName);
        var image = Assert.Single(row.Images);
        var uninterrupted = Assert.Single(await db.Images.Where(i => i.JobId == reference).ToListAsync());
        Assert.Equal(uninterrupted.Sha256, image.Sha256);
        var store = web.App.Services.GetRequiredService<T2IStudio.Web.Storage.ImageStore>();
        Assert.Equal(await File.ReadAllBytesAsync(store.PathOf(uninterrupted.FileKey)), await File.ReadAllBytesAsync(store.PathOf(image.FileKey)));
        Assert.Equal(2, await db.Images.CountAsync());
        Assert.Equal(4, Directory.EnumerateFiles(Path.Combine(web.App.StorageRoot, "images"), "*", SearchOption.AllDirectories).Count()); // two PNGs, two thumbnails
    }

    [Fact]
    public async Task A_cancel_reaches_a_remote_worker_within_a_step_and_the_worker_goes_on()
    {
        using var web = WebNode.Start();
        var user = await web.App.CreateUserAsync("impatient@example.test");
        using var waiter = new JobWaiter(web.App.Services, user.Id);
        var principal = StudioAppFactory.PrincipalOf(user);
        using var worker = WorkerProcess.Start(web.Url, Key, "remote");
        await worker.WaitUntilReadyAsync();

        var job = (await web.Service.SubmitAsync(principal, Request(steps: 150, size: 128))).JobId!.Value;
        var first = await waiter.WaitForAsync<JobProgress>(job);
        Assert.Equal(CancelOutcome.Stopping, await web.Service.CancelAsync(principal, job));
        await waiter.WaitForAsync<JobCanceled>(job);
        var next = (await web.Service.SubmitAsync(principal, Request(seed: 5))).JobId!.Value;
        await waiter.WaitForAsync<JobCompleted>(next);

        await using var db = await web.CreateDbContextAsync();
        var row = await db.Jobs.Include(j => j.Images).SingleAsync(j => j.Id == job);
        Assert.Equal(JobStatus.Canceled, row.Status);
        Assert.InRange(row.Step, first.Step, 149);
        Assert.Empty(row.Images);
        Assert.Equal("remote", (await db.Jobs.SingleAsync(j => j.Id == next)).WorkerName);
    }

    [Fact]
    public async Task A_web_node_restarting_under_a_running_job_leaves_the_lease_with_the_worker_which_finishes_it_once_the_node_is_back()
    {
        using var keeper = new StudioAppFactory();
        var port = FreeLoopbackPort();
        string userId;
        Guid job;
        var first = WebNode.Start(keeper.StorageRoot, port, leaseSeconds: 60);
        using var worker = WorkerProcess.Start(first.Url, Key, "steady");
        try
        {
            var user = await first.App.CreateUserAsync("steady@example.test");
            userId = user.Id;
            using var waiter = new JobWaiter(first.App.Services, user.Id);
            await worker.WaitUntilReadyAsync();
            job = (await first.Service.SubmitAsync(StudioAppFactory.PrincipalOf(user), Request(steps: 150, size: 128, seed: 9))).JobId!.Value;
            await waiter.WaitForAsync<JobProgress>(job, p => p.Step >= 2);
        }
        finally
        {
            first.Dispose(); // a planned stop: every connection closes under the running job
        }

        using var second = WebNode.Start(keeper.StorageRoot, port, leaseSeconds: 60);
        var rows = await second.WaitForRowsAsync(all => all.Single(j => j.Id == job).IsFinished, worker);

        var row = rows.Single(j => j.Id == job);
        Assert.Equal(JobStatus.Completed, row.Status);
        Assert.Equal(1, row.Attempts); // the run that began before the restart is the one that finished
        Assert.Equal("steady", row.WorkerName);
        await using var db = await second.CreateDbContextAsync();
        Assert.Single(await db.Images.Where(i => i.JobId == job).ToListAsync());
        Assert.Equal(userId, (await db.Images.SingleAsync()).OwnerId);
    }

    [Fact]
    public async Task A_worker_given_several_servers_joins_the_first_that_answers_and_when_that_node_stops_mid_job_finishes_it_through_the_next()
    {
        // Two web nodes on one database and one image folder; the first address in the list answers nobody.
        using var keeper = new StudioAppFactory();
        var nobody = $"http://127.0.0.1:{FreeLoopbackPort()}";
        using var second = WebNode.Start(keeper.StorageRoot, leaseSeconds: 60);
        var first = WebNode.Start(keeper.StorageRoot, leaseSeconds: 60);
        using var worker = WorkerProcess.Start($"{nobody},{first.Url},{second.Url}", Key, "roamer");
        Guid job;
        try
        {
            var user = await first.App.CreateUserAsync("roamer@example.test");
            using var waiter = new JobWaiter(first.App.Services, user.Id);
            await worker.WaitUntilReadyAsync();
            Assert.Contains($"joined {first.Url}/hubs/workers", worker.Output, StringComparison.Ordinal);
            job = (await first.Service.SubmitAsync(StudioAppFactory.PrincipalOf(user), Request(steps: 150, size: 128, seed: 3))).JobId!.Value;
            await waiter.WaitForAsync<JobProgress>(job, p => p.Step >= 2);
        }
        finally
        {
            first.Dispose(); // the node goes away under the running job
        }

        var rows = await second.WaitForRowsAsync(all => all.Single(j => j.Id == job).IsFinished, worker);

        var row = rows.Single(j => j.Id == job);
        Assert.Equal(JobStatus.Completed, row.Status);
        Assert.Equal(1, row.Attempts); // the second node adopted the lease: the run never started over
        Assert.Equal("roamer", row.WorkerName);
        Assert.Contains($"Reconnected to {second.Url}/hubs/workers", worker.Output, StringComparison.Ordinal);
        await using var db = await second.CreateDbContextAsync();
        Assert.Single(await db.Images.Where(i => i.JobId == job).ToListAsync());
    }

    [Fact]
    public async Task A_worker_given_a_bad_address_in_its_server_list_exits_with_code_1_naming_it()
    {
        using var worker = WorkerProcess.Start("http://127.0.0.1:1,127.0.0.1:2", Key, "typo");

        Assert.Equal(1, await worker.WaitForExitAsync());
        Assert.Contains("\"127.0.0.1:2\" is not an http or https address", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_with_a_wrong_key_is_refused_and_exits_with_code_2_saying_so()
    {
        using var web = WebNode.Start();
        using var worker = WorkerProcess.Start(web.Url, "not-the-key-0123456789abcdef0123456789abc", "intruder");

        Assert.Equal(2, await worker.WaitForExitAsync());
        Assert.Contains("The server refused this worker's key.", worker.Output, StringComparison.Ordinal);
        Assert.Empty(web.App.Services.GetRequiredService<WorkerRegistry>().Sessions);
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static JobRequest Request(int steps = 8, int size = 64, ulong seed = 42) => new()
    {
        Model = "t2istudio-tiny",
        Request = new GenerationRequest { Prompt = "a red circle on a blue background", Steps = steps, Width = size, Height = size, Seed = seed, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim },
    };

    /// <summary>A web-only node on a real port: no in-process worker, one worker key, quick heartbeats.</summary>
    private sealed class WebNode : IDisposable
    {
        private readonly IServiceScope _scope;

        private WebNode(StudioAppFactory app)
        {
            App = app;
            _scope = app.Services.CreateScope();
            Service = _scope.ServiceProvider.GetRequiredService<GenerationService>();
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            Url = addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
        }

        public StudioAppFactory App { get; }

        public GenerationService Service { get; }

        public string Url { get; }

        /// <summary>Starts a node; <paramref name="storageRoot"/> and <paramref name="port"/> let a second node stand in for a restarted first.</summary>
        public static WebNode Start(string? storageRoot = null, int port = 0, int leaseSeconds = 5)
        {
            var app = new StudioAppFactory(storageRoot, new Dictionary<string, string?>
            {
                ["Queue:RunWorker"] = "false",
                ["Workers:Keys:0"] = Key,
                ["Workers:HeartbeatSeconds"] = "1",
                ["Workers:LeaseSeconds"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            app.UseKestrel(port);
            app.StartServer();
            return new WebNode(app);
        }

        public Task<AppDbContext> CreateDbContextAsync() =>
            App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();

        /// <summary>Polls the job rows until <paramref name="done"/> holds (two minutes at most; the workers' output explains a timeout).</summary>
        public async Task<List<Job>> WaitForRowsAsync(Func<List<Job>, bool> done, params WorkerProcess[] workers)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            while (true)
            {
                await using (var db = await CreateDbContextAsync())
                {
                    var rows = await db.Jobs.AsNoTracking().ToListAsync();
                    if (done(rows))
                    {
                        return rows;
                    }
                }
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException("The jobs did not reach the expected state. " + string.Join("\n", workers.Select(w => $"--- {w.Name}:\n{w.Output}")));
                }
            }
        }

        public void Dispose()
        {
            _scope.Dispose();
            App.Dispose();
        }
    }
}

/// <summary>Worker-process tests run one at a time: each starts processes that want the machine's cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkerProcessesRunAlone
{
    /// <summary>The collection's name.</summary>
    public const string Name = "worker processes";
}

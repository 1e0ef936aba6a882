using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Tests.Infrastructure;
using static T2IStudio.Web.Tests.Integration.GenerationQueueTests;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>Limits that hold and a worker that survives: quota under concurrency, admin cancel, any exception, the time limit, start-up recovery.</summary>
public sealed class JobSafetyTests
{
    [Fact]
    public async Task Thirty_parallel_submits_of_one_person_queue_exactly_the_quota_and_refuse_the_rest_with_the_quota_message()
    {
        using var app = new StudioAppFactory(settings: new Dictionary<string, string?> { ["Queue:RunWorker"] = "false", ["Queue:MaxQueuedPerUser"] = "5" });
        var user = await app.CreateUserAsync("tabs@example.test");
        var principal = StudioAppFactory.PrincipalOf(user);

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(async () =>
        {
            using var scope = app.Services.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(principal, Request(seed: (ulong)i));
        })));

        Assert.Equal(5, results.Count(r => r.Succeeded));
        var refused = results.Where(r => !r.Succeeded).ToList();
        Assert.Equal(25, refused.Count);
        Assert.All(refused, r => Assert.Equal("You have 5 jobs waiting or running, the most allowed is 5. Cancel one or wait for one to finish.", Assert.Single(r.Errors)));
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal(5, await db.Jobs.CountAsync(j => j.OwnerId == user.Id && j.Status == JobStatus.Queued));
        Assert.Equal(5, (await app.Services.GetRequiredService<JobLifecycle>().SnapshotAsync()).WaitingCount);
    }

    [Theory]
    [InlineData(false, "The job stopped on an unexpected error (GremlinException). Submit it again; if it keeps happening, tell an admin.")]
    [InlineData(true, "The server ran out of memory running this job. Try a smaller size or batch.")]
    public async Task A_job_that_throws_any_exception_fails_with_a_message_frees_its_slot_and_the_worker_runs_the_next(bool outOfMemory, string message)
    {
#pragma warning disable CA2201 // the runtime's own exception, thrown here the way a huge allocation would throw it
        var saboteur = new ThrowOnImageRows(outOfMemory ? () => new OutOfMemoryException() : () => new GremlinException());
#pragma warning restore CA2201
        using var app = new InterceptedApp(saboteur, new Dictionary<string, string?> { ["Queue:MaxQueuedPerUser"] = "1" });
        var user = await app.CreateUserAsync("gremlin@example.test");
        using var waiter = new JobWaiter(app.Services, user.Id);
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var principal = StudioAppFactory.PrincipalOf(user);

        var doomed = (await service.SubmitAsync(principal, Request(seed: 1))).JobId!.Value;
        var failed = await waiter.WaitForAsync<JobFailed>(doomed);
        // With a quota of one, this submit passes only if the failed job gave its slot back.
        var next = await service.SubmitAsync(principal, Request(seed: 2));

        Assert.Equal(message, failed.Error);
        Assert.True(next.Succeeded, string.Join(" ", next.Errors));
        var completed = await waiter.WaitForAsync<JobCompleted>(next.JobId!.Value);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var row = await db.Jobs.SingleAsync(j => j.Id == doomed);
        Assert.Equal(JobStatus.Failed, row.Status);
        Assert.Equal(message, row.Error);
        Assert.NotNull(row.FinishedAt);
        Assert.Empty(await db.Images.Where(i => i.JobId == doomed).ToListAsync());
        Assert.Equal(0, app.Services.GetRequiredService<JobLifecycle>().HeldCount);
        // The failed attempt's files went with it: only the next job's PNG and thumbnail are on disk.
        var store = app.Services.GetRequiredService<ImageStore>();
        var image = await db.Images.SingleAsync(i => i.Id == Assert.Single(completed.ImageIds));
        Assert.Equal(
            new[] { store.PathOf(image.FileKey), store.ThumbnailPathOf(image.FileKey) }.Order(StringComparer.Ordinal),
            Directory.EnumerateFiles(Path.Combine(app.StorageRoot, "images"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_job_running_past_Queue_MaxJobMinutes_is_stopped_and_failed_with_the_limit_in_words()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = new InterceptedApp(clock, new Dictionary<string, string?> { ["Queue:MaxJobMinutes"] = "1" });
        var user = await app.CreateUserAsync("slow@example.test");
        using var waiter = new JobWaiter(app.Services, user.Id);
        // Holds the worker inside the job's first progress report, so the clock moves while the job is surely running.
        using var release = new ManualResetEventSlim();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var hold = app.Services.GetRequiredService<StudioNotifier>().Subscribe(user.Id, e =>
        {
            if (e is JobProgress && held.TrySetResult())
            {
                release.Wait(TimeSpan.FromMinutes(2));
            }
            return Task.CompletedTask;
        });
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var principal = StudioAppFactory.PrincipalOf(user);

        var job = (await service.SubmitAsync(principal, Request(steps: 50))).JobId!.Value;
        await held.Task.WaitAsync(TimeSpan.FromMinutes(2));
        clock.Advance(TimeSpan.FromMinutes(1));
        release.Set();
        var failed = await waiter.WaitForAsync<JobFailed>(job);

        Assert.Equal("Stopped after 1 minute: the per-job limit (Queue:MaxJobMinutes).", failed.Error);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var row = await db.Jobs.SingleAsync(j => j.Id == job);
        Assert.Equal(JobStatus.Failed, row.Status);
        Assert.InRange(row.Step, 1, 49);
        // The worker goes on, and the limit is per job: a fresh one completes.
        var next = (await service.SubmitAsync(principal, Request(seed: 7))).JobId!.Value;
        await waiter.WaitForAsync<JobCompleted>(next);
    }

    [Fact]
    public void Queue_MaxJobMinutes_out_of_range_stops_the_app_at_start_with_a_message_naming_the_key()
    {
        using var app = new StudioAppFactory(settings: new Dictionary<string, string?> { ["Queue:MaxJobMinutes"] = "-1" });

        var error = Assert.ThrowsAny<Exception>(() => app.Server);

        Assert.Contains("Queue:MaxJobMinutes must be between 0 (no limit) and 10080 (a week).", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_cancels_someone_elses_waiting_job_its_owner_hears_it_and_a_non_admin_gets_not_found()
    {
        using var app = new StudioAppFactory(settings: new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" });
        var admin = await MakeAdminAsync(app, "admin@example.test");
        var bob = await app.CreateUserAsync("bob@example.test");
        var carol = await app.CreateUserAsync("carol@example.test");
        using var bobsEvents = new JobWaiter(app.Services, bob.Id);
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var job = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(bob), Request(prompt: "bob's blue square"))).JobId!.Value;

        Assert.Equal(CancelOutcome.NotFound, await service.CancelAsync(StudioAppFactory.PrincipalOf(carol), job));
        Assert.Empty(await service.ListQueueAsync(StudioAppFactory.PrincipalOf(carol)));
        var listed = Assert.Single(await service.ListQueueAsync(StudioAppFactory.PrincipalOf(admin)));
        Assert.Equal((job, "bob@example.test", "bob's blue square", JobStatus.Queued, (int?)0), (listed.Id, listed.Owner, listed.Prompt, listed.Status, listed.Position));

        Assert.Equal(CancelOutcome.Canceled, await service.CancelAsync(StudioAppFactory.PrincipalOf(admin), job));

        await bobsEvents.WaitForAsync<JobCanceled>(job);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal(JobStatus.Canceled, (await db.Jobs.SingleAsync(j => j.Id == job)).Status);
        Assert.Null(await service.StandingOfAsync(job));
        Assert.Empty(await service.ListQueueAsync(StudioAppFactory.PrincipalOf(admin)));
    }

    [Fact]
    public async Task An_admin_stops_someone_elses_running_job_and_its_owner_hears_it_was_cancelled()
    {
        using var app = new StudioAppFactory();
        var admin = await MakeAdminAsync(app, "root@example.test");
        var bob = await app.CreateUserAsync("runner@example.test");
        using var bobsEvents = new JobWaiter(app.Services, bob.Id);
        // Progress is delivered on the worker's own thread: holding it at the first step keeps the job running (a
        // small one, not one made slow enough to outlast the cancel on a busy machine) until the admin's cancel is in.
        using var cancelIssued = new ManualResetEventSlim();
        using var holdAtFirstStep = app.Services.GetRequiredService<StudioNotifier>().Subscribe(bob.Id, e =>
        {
            if (e is JobProgress)
            {
                cancelIssued.Wait(TimeSpan.FromMinutes(2));
            }
            return Task.CompletedTask;
        });
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var job = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(bob), Request(steps: 30))).JobId!.Value;
        await bobsEvents.WaitForAsync<JobProgress>(job);

        Assert.Equal(JobStatus.Running, Assert.Single(await service.ListQueueAsync(StudioAppFactory.PrincipalOf(admin))).Status);
        Assert.Equal(CancelOutcome.Stopping, await service.CancelAsync(StudioAppFactory.PrincipalOf(admin), job));
        cancelIssued.Set();

        await bobsEvents.WaitForAsync<JobCanceled>(job);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var row = await db.Jobs.SingleAsync(j => j.Id == job);
        Assert.Equal(JobStatus.Canceled, row.Status);
        Assert.InRange(row.Step, 1, 29);
    }

    [Fact]
    public async Task Recovery_has_finished_when_the_host_has_started_so_no_request_or_job_races_it()
    {
        using var keeper = new StudioAppFactory();
        Guid crashed;
        using (var first = new StudioAppFactory(keeper.StorageRoot, new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" }))
        {
            var user = await first.CreateUserAsync("early@example.test");
            using var scope = first.Services.CreateScope();
            crashed = (await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(StudioAppFactory.PrincipalOf(user), Request())).JobId!.Value;
            await using var db = await first.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            await db.Jobs.Where(j => j.Id == crashed).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.Attempts, 1));
        }
        var orphan = Path.Combine(keeper.StorageRoot, "images", "cd", "cd" + Guid.NewGuid().ToString("N")[2..] + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(orphan)!);
        await File.WriteAllBytesAsync(orphan, [1, 2, 3]);

        using var second = new StudioAppFactory(keeper.StorageRoot);
        _ = second.Server; // returns once the host has started: no waiting on anything after this

        var recovery = second.Services.GetRequiredService<QueueRecovery>();
        Assert.Null(recovery.Problem);
        Assert.Equal(new RecoveryReport(Requeued: 1, Interrupted: 0, Waiting: 1, OrphansRemoved: 1), recovery.LastReport);
        Assert.False(File.Exists(orphan));
    }

    [Fact]
    public async Task A_failing_recovery_is_logged_and_shown_and_the_app_keeps_serving()
    {
        using var keeper = new StudioAppFactory();
        using (var first = new StudioAppFactory(keeper.StorageRoot, new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" }))
        {
            await using var db = await first.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            // Damage the recovery reads: a table it needs is gone (the schema history still says current).
            await db.Database.ExecuteSqlRawAsync("DROP TABLE \"Images\";");
        }

        using var second = new StudioAppFactory(keeper.StorageRoot);
        using var client = second.CreateClient();
        var login = await client.GetAsync(new Uri("/Account/Login", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.OK, login.StatusCode);
        var problem = second.Services.GetRequiredService<QueueRecovery>().Problem;
        Assert.NotNull(problem);
        Assert.StartsWith("Start-up recovery failed (SqliteException:", problem, StringComparison.Ordinal);
        Assert.Contains("no such table: Images", problem, StringComparison.Ordinal);
    }

    internal static async Task<AppUser> MakeAdminAsync(StudioAppFactory app, string email)
    {
        var admin = await app.CreateUserAsync(email);
        using var scope = app.Services.CreateScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(AppDbContext.AdminRole))
        {
            Assert.True((await roles.CreateAsync(new IdentityRole(AppDbContext.AdminRole))).Succeeded);
        }
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.True((await users.AddToRoleAsync((await users.FindByIdAsync(admin.Id))!, AppDbContext.AdminRole)).Succeeded);
        return admin;
    }

    /// <summary>An exception type no one wrote a catch for.</summary>
    private sealed class GremlinException() : Exception("A gremlin in the machine.");

    /// <summary>Throws the first time the worker saves a job's image rows: an unforeseen failure inside a job.</summary>
    private sealed class ThrowOnImageRows(Func<Exception> make) : SaveChangesInterceptor
    {
        private int _armed = 1;

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (eventData.Context!.ChangeTracker.Entries<GeneratedImage>().Any(e => e.State == EntityState.Added) && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                throw make();
            }
            return base.SavingChangesAsync(eventData, result, cancellationToken);
        }
    }

    /// <summary>The real app with one service replaced: a database interceptor, or the clock.</summary>
    private sealed class InterceptedApp : StudioAppFactory
    {
        private readonly Action<IServiceCollection> _replace;

        public InterceptedApp(IInterceptor interceptor, IDictionary<string, string?> settings) : base(settings: settings) =>
            _replace = services => services.ConfigureDbContext<AppDbContext>(options => options.AddInterceptors(interceptor));

        public InterceptedApp(TimeProvider clock, IDictionary<string, string?> settings) : base(settings: settings) =>
            _replace = services => services.AddSingleton(clock);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(_replace);
        }
    }
}

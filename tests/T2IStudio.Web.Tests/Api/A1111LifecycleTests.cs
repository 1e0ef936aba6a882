using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Api;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Api;

/// <summary>
/// The A1111 calls around a job's life (progress, interrupt, a caller that goes away, a refused later job, the size
/// of a call), on a host without its own worker: the test is the worker, through <see cref="JobLifecycle"/>, so each
/// step happens exactly when the test says.
/// </summary>
public sealed class A1111LifecycleTests
{
    private const int Steps = 8;

    [Fact]
    public async Task Progress_shows_the_reported_step_and_preview_and_interrupt_ends_the_job_as_canceled()
    {
        using var app = WorkerlessApp();
        var (user, client) = await ClientAsync(app);
        var stopping = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = Join(app, stopping);
        var lifecycle = app.Services.GetRequiredService<JobLifecycle>();
        var idle = await client.GetFromJsonAsync<JsonElement>(new Uri("/sdapi/v1/progress", UriKind.Relative));
        Assert.Equal(0, idle.GetProperty("state").GetProperty("job_count").GetInt32());
        Assert.Equal(JsonValueKind.Null, idle.GetProperty("current_image").ValueKind);

        var generating = client.PostAsJsonAsync("/sdapi/v1/txt2img",
            new { prompt = "a long job", seed = 9, steps = Steps, width = 64, height = 64, sampler_name = "Euler" });
        var assignment = await LeaseAsync(app, lifecycle, worker, user);
        var preview = WebImages.PreviewJpeg(new RgbImage(16, 16, [.. Enumerable.Range(0, 16 * 16 * 3).Select(i => (byte)i)]));
        Assert.True(lifecycle.ReportProgress(worker, assignment.JobId, assignment.LeaseId, 3, Steps, preview));

        var progress = await client.GetFromJsonAsync<JsonElement>(new Uri("/sdapi/v1/progress?skip_current_image=false", UriKind.Relative));
        var state = progress.GetProperty("state");
        Assert.Equal(assignment.JobId.ToString("N"), state.GetProperty("job").GetString());
        Assert.Equal(1, state.GetProperty("job_count").GetInt32());
        Assert.Equal(3, state.GetProperty("sampling_step").GetInt32());
        Assert.Equal(Steps, state.GetProperty("sampling_steps").GetInt32());
        Assert.Equal(3.0 / Steps, progress.GetProperty("progress").GetDouble(), 6);
        Assert.Equal(preview, Convert.FromBase64String(progress.GetProperty("current_image").GetString()!));
        var skipped = await client.GetFromJsonAsync<JsonElement>(new Uri("/sdapi/v1/progress?skip_current_image=true", UriKind.Relative));
        Assert.Equal(JsonValueKind.Null, skipped.GetProperty("current_image").ValueKind);

        var interrupt = await client.PostAsync(new Uri("/sdapi/v1/interrupt", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, interrupt.StatusCode);
        Assert.Equal([assignment.JobId], (await interrupt.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("interrupted").EnumerateArray().Select(i => i.GetGuid()));
        Assert.Equal(assignment.JobId, await stopping.Task);
        Assert.True(await lifecycle.StoppedAsync(worker, assignment.JobId, assignment.LeaseId, 3, CancellationToken.None));

        var answered = await generating;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Empty((await answered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("images").EnumerateArray());
        await using var db = await DbAsync(app);
        Assert.Equal(JobStatus.Canceled, (await db.Jobs.SingleAsync(j => j.Id == assignment.JobId)).Status);
    }

    [Fact]
    public async Task A_caller_that_goes_away_cancels_its_job()
    {
        using var app = WorkerlessApp();
        var (user, client) = await ClientAsync(app);
        var stopping = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = Join(app, stopping);
        var lifecycle = app.Services.GetRequiredService<JobLifecycle>();
        using var leaving = new CancellationTokenSource();
        var generating = client.PostAsJsonAsync("/sdapi/v1/txt2img",
            new { prompt = "nobody waits for this", seed = 1, steps = Steps, width = 64, height = 64 }, leaving.Token);
        var assignment = await LeaseAsync(app, lifecycle, worker, user);
        Assert.True(lifecycle.ReportProgress(worker, assignment.JobId, assignment.LeaseId, 1, Steps, null));

        await leaving.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generating);
        Assert.Equal(assignment.JobId, await stopping.Task);
        Assert.True(await lifecycle.StoppedAsync(worker, assignment.JobId, assignment.LeaseId, 1, CancellationToken.None));
        await using var db = await DbAsync(app);
        Assert.Equal(JobStatus.Canceled, (await db.Jobs.SingleAsync(j => j.Id == assignment.JobId)).Status);
    }

    [Fact]
    public async Task A_refused_later_job_cancels_the_calls_earlier_jobs_and_answers_the_refusal()
    {
        // One active job per token: the call's second job (images 9 to 16) is refused while its first waits.
        using var app = WorkerlessApp(new() { ["Queue:MaxQueuedPerToken"] = "1" });
        var (user, client) = await ClientAsync(app);

        var response = await client.PostAsJsonAsync("/sdapi/v1/txt2img",
            new { prompt = "too many", seed = 1, steps = 2, width = 64, height = 64, batch_size = 8, n_iter = 2 });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.TooManyRequests, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await using var db = await DbAsync(app);
        var job = await db.Jobs.SingleAsync(j => j.OwnerId == user.Id);
        Assert.Equal(JobStatus.Canceled, job.Status);
    }

    [Theory]
    [InlineData(2048, 2048, 8, 1, "batch_size")] // 32 MP in one job
    [InlineData(1024, 1024, 8, 3, "n_iter")] // 24 MP over three jobs
    [InlineData(2048, 1024, 1, 9, "n_iter")] // 18 MP, one image a job
    public async Task A_call_asking_for_more_than_16_megapixels_in_all_is_refused_naming_the_field(int width, int height, int batchSize, int nIter, string field)
    {
        using var app = WorkerlessApp();
        var (user, client) = await ClientAsync(app);

        var response = await client.PostAsJsonAsync("/sdapi/v1/txt2img",
            new { prompt = "huge", steps = 2, width, height, batch_size = batchSize, n_iter = nIter });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
        var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors");
        Assert.Contains($"at most {A1111Jobs.MaxPixelsPerCall} pixels", errors.GetProperty(field)[0].GetString(), StringComparison.Ordinal);
        await using var db = await DbAsync(app);
        Assert.False(await db.Jobs.AnyAsync(j => j.OwnerId == user.Id));
    }

    [Fact]
    public async Task Sixteen_megapixels_in_all_is_within_the_limit()
    {
        using var app = WorkerlessApp();
        var (user, client) = await ClientAsync(app);

        // 4 × 2048 × 2048 is exactly the limit: the job is queued; the interrupt then ends the call before anything runs.
        var generating = client.PostAsJsonAsync("/sdapi/v1/txt2img",
            new { prompt = "at the limit", steps = 2, width = 2048, height = 2048, batch_size = 4, n_iter = 1 });
        await JobWaiter.WaitForRowsAsync(app.Services, user.Id, rows => rows.Any(r => r.OwnerId == user.Id && r.Status == JobStatus.Queued));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(new Uri("/sdapi/v1/interrupt", UriKind.Relative), null)).StatusCode);

        var answered = await generating;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        await using var db = await DbAsync(app);
        var job = await db.Jobs.SingleAsync(j => j.OwnerId == user.Id);
        Assert.Equal(JobStatus.Canceled, job.Status);
        var request = GenerationMetadata.ReadStoredRequest(job.RequestJson)!;
        Assert.Equal((2048, 2048, 4), (request.Width, request.Height, request.BatchSize));
    }

    private static StudioAppFactory WorkerlessApp(Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(settings ?? []) { ["Queue:RunWorker"] = "false" };
        var app = new StudioAppFactory(settings: all);
        _ = app.Server;
        return app;
    }

    private static async Task<(AppUser User, HttpClient Client)> ClientAsync(StudioAppFactory app)
    {
        var user = await app.CreateUserAsync("lifecycle@a1111.test");
        return (user, app.CreateApiClient(await app.CreateTokenAsync(user)));
    }

    private static WorkerSession Join(StudioAppFactory app, TaskCompletionSource<Guid> stopping) =>
        app.Services.GetRequiredService<WorkerRegistry>().Join(new WorkerHello(Guid.NewGuid(), "test-worker", "cpu", null, ["t2istudio-tiny"], "test"),
            WorkerKind.Remote, jobId =>
            {
                stopping.TrySetResult(jobId);
                return Task.CompletedTask;
            });

    /// <summary>Leases the job the call submitted, once it is queued.</summary>
    private static async Task<JobAssignment> LeaseAsync(StudioAppFactory app, JobLifecycle lifecycle, WorkerSession worker, AppUser user)
    {
        await JobWaiter.WaitForRowsAsync(app.Services, user.Id, rows => rows.Any(r => r.OwnerId == user.Id && r.Status == JobStatus.Queued));
        return (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
    }

    private static Task<AppDbContext> DbAsync(StudioAppFactory app) =>
        app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
}

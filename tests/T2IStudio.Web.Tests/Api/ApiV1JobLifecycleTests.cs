using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Api;

/// <summary>
/// <c>/api/v1</c> jobs around a job's life on a host without its own worker: the test is the worker, through
/// <see cref="JobLifecycle"/>, so each step happens exactly when the test says.
/// </summary>
public sealed class ApiV1JobLifecycleTests : IDisposable
{
    private readonly StudioAppFactory _app = new(settings: new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" });

    public ApiV1JobLifecycleTests() => _ = _app.Server;

    [Fact]
    public async Task The_event_stream_follows_a_job_put_back_in_line_after_its_worker_was_lost_from_step_zero_again()
    {
        var user = await _app.CreateUserAsync("requeue@events.test");
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user));
        var id = await ApiV1JobsTests.AcceptedIdAsync(await ApiV1JobsTests.SubmitAsync(client, ApiV1JobsTests.Tiny("lost and found", steps: 4)));
        var lifecycle = _app.Services.GetRequiredService<JobLifecycle>();
        var registry = _app.Services.GetRequiredService<WorkerRegistry>();
        WorkerSession? worker = null;
        JobAssignment? lease = null;
        var queuedTimes = 0;

        var events = await ApiV1JobsTests.ReadEventsAsync(client, id, async (type, data) =>
        {
            switch (type)
            {
                case "queued":
                    queuedTimes++;
                    worker = registry.Join(new WorkerHello(Guid.NewGuid(), $"box-{queuedTimes}", "cpu", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);
                    lease = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
                    Assert.Equal(id, lease.JobId);
                    // Two steps on the first worker, one on the second: the stream must show the second run's step 1.
                    Assert.True(lifecycle.ReportProgress(worker, id, lease.LeaseId, queuedTimes == 1 ? 2 : 1, 4, null));
                    break;
                case "step" when queuedTimes == 1:
                    await lifecycle.WorkerLeftAsync(worker!, "the test pulled its plug");
                    break;
                case "step":
                    Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(new Uri($"/api/v1/jobs/{id}/cancel", UriKind.Relative), null)).StatusCode);
                    Assert.True(await lifecycle.StoppedAsync(worker!, id, lease!.LeaseId, 1, CancellationToken.None));
                    break;
            }
        });

        Assert.Equal(["queued", "started", "step", "queued", "started", "step", "canceled"], events.Select(e => e.Type));
        Assert.Equal([2, 1], events.Where(e => e.Type == "step").Select(e => e.Data.GetProperty("step").GetInt32()));
    }

    [Fact]
    public async Task An_admins_token_acts_as_a_person_someone_elses_job_is_404_to_cancel_as_to_read()
    {
        var owner = await _app.CreateUserAsync("owner@admin-token.test");
        var admin = await _app.CreateUserAsync("admin@admin-token.test");
        await _app.MakeAdminAsync(admin);
        using var ownerClient = _app.CreateApiClient(await _app.CreateTokenAsync(owner));
        using var adminClient = _app.CreateApiClient(await _app.CreateTokenAsync(admin));
        var id = await ApiV1JobsTests.AcceptedIdAsync(await ApiV1JobsTests.SubmitAsync(ownerClient, ApiV1JobsTests.Tiny("mine")));

        Assert.Equal(HttpStatusCode.NotFound, (await adminClient.PostAsync(new Uri($"/api/v1/jobs/{id}/cancel", UriKind.Relative), null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await adminClient.GetAsync(new Uri($"/api/v1/jobs/{id}", UriKind.Relative))).StatusCode);
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            Assert.Equal(JobStatus.Queued, (await db.Jobs.SingleAsync(j => j.Id == id)).Status);
        }

        // The same admin in the browser (Admin → Queue) still stops it.
        using var scope = _app.Services.CreateScope();
        Assert.Equal(CancelOutcome.Canceled, await scope.ServiceProvider.GetRequiredService<GenerationService>().CancelAsync(StudioAppFactory.PrincipalOf(admin), id));
    }

    public void Dispose() => _app.Dispose();
}

using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Components.Admin;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Components;

public sealed class AdminQueuePageTests : StudioComponentTestBase
{
    [Fact]
    public async Task The_admin_queue_lists_everyones_waiting_jobs_and_Cancel_cancels_another_persons_job()
    {
        var (admin, bob, bobs) = await ArrangeAdminAndBobAsync();
        var submitted = await Services.GetRequiredService<GenerationService>().SubmitAsync(bobs, new JobRequest
        {
            Model = "t2istudio-tiny",
            Request = new GenerationRequest { Prompt = "a lone red circle", Steps = 8, Width = 64, Height = 64, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim, Seed = 1 },
        });
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));

        var page = Render<AdminQueue>();

        page.WaitForAssertion(() =>
        {
            var row = page.FindAll("tbody tr").Single();
            Assert.Contains("bob@example.test", row.TextContent, StringComparison.Ordinal);
            Assert.Contains("a lone red circle", row.TextContent, StringComparison.Ordinal);
            Assert.Contains("Waiting", row.TextContent, StringComparison.Ordinal);
            Assert.Equal("0 running · 1 waiting", page.Find("[data-testid=admin-queue-summary]").TextContent.Trim());
        });
        await page.InvokeAsync(() => page.Find("button[aria-label='Cancel the job of bob@example.test: a lone red circle']").Click());

        page.WaitForAssertion(() => Assert.Contains("The queue is empty", page.Markup, StringComparison.Ordinal));
        await using var check = CreateDb();
        Assert.Equal(JobStatus.Canceled, (await check.Jobs.SingleAsync(j => j.Id == submitted.JobId)).Status);
    }

    [Fact]
    public async Task The_Worker_column_names_the_worker_that_runs_a_job_here_or_on_another_node_and_a_dash_for_one_that_waits()
    {
        var (admin, bob, bobs) = await ArrangeAdminAndBobAsync();
        var generation = Services.GetRequiredService<GenerationService>();
        var ids = new Dictionary<string, Guid>();
        foreach (var prompt in new[] { "runs here", "runs elsewhere", "waits" })
        {
            var submitted = await generation.SubmitAsync(bobs, new JobRequest
            {
                Model = "t2istudio-tiny",
                Request = new GenerationRequest { Prompt = prompt, Steps = 8, Width = 64, Height = 64, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim, Seed = 1 },
            });
            Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
            ids[prompt] = submitted.JobId!.Value;
        }
        // One job is leased to a worker of this node; one runs on a worker connected to another node (only its row says so).
        var registry = Services.GetRequiredService<WorkerRegistry>();
        var lifecycle = Services.GetRequiredService<JobLifecycle>();
        var busy = registry.Join(new T2IStudio.Generation.Workers.WorkerHello(Guid.NewGuid(), "gpu-box", "cuda:0", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);
        Assert.Equal(ids["runs here"], (await lifecycle.TryLeaseAsync(busy, CancellationToken.None))!.JobId);
        registry.Join(new T2IStudio.Generation.Workers.WorkerHello(Guid.NewGuid(), "idle-box", "cpu", null, ["other-model"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);
        await using (var db = CreateDb())
        {
            var elsewhere = await db.Jobs.SingleAsync(j => j.Id == ids["runs elsewhere"]);
            elsewhere.Status = JobStatus.Running;
            elsewhere.StartedAt = DateTimeOffset.UtcNow;
            elsewhere.WorkerName = "render-2";
            await db.SaveChangesAsync();
        }

        var page = Render<AdminQueue>();

        page.WaitForAssertion(() =>
        {
            Assert.Equal(3, page.FindAll("tbody tr").Count);
            Assert.Equal("gpu-box", WorkerCell(page, "runs here"));
            Assert.Equal("render-2", WorkerCell(page, "runs elsewhere"));
            Assert.Equal("—", WorkerCell(page, "waits"));
        });
    }

    /// <summary>The generation services, an admin signed in (with the real resource checks) and Bob, whose jobs they see.</summary>
    private async Task<(AppUser Admin, AppUser Bob, ClaimsPrincipal Bobs)> ArrangeAdminAndBobAsync()
    {
        AddGenerationServices();
        var admin = await AddUserAsync("admin@example.test");
        var bob = await AddUserAsync("bob@example.test");
        await MakeAdminAsync(admin);
        var auth = AddAuthorization();
        auth.SetAuthorized(admin.Email!);
        auth.SetRoles(AppDbContext.AdminRole);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, admin.Id));
        UseRealResourceChecks();
        return (admin, bob, new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, bob.Id)], "test")));
    }

    private async Task MakeAdminAsync(AppUser admin)
    {
        await using var db = CreateDb();
        var role = new IdentityRole(AppDbContext.AdminRole) { NormalizedName = AppDbContext.AdminRole.ToUpperInvariant() };
        db.Roles.Add(role);
        db.UserRoles.Add(new IdentityUserRole<string> { UserId = admin.Id, RoleId = role.Id });
        await db.SaveChangesAsync();
    }

    private static string WorkerCell(IRenderedComponent<AdminQueue> page, string prompt) =>
        page.FindAll("tbody tr")
            .Single(row => row.QuerySelector("td[data-label=Prompt]")!.TextContent.Trim() == prompt)
            .QuerySelector("td[data-label=Worker]")!.TextContent.Trim();
}

using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Components.Pages.Admin;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

public sealed class AdminQueuePageTests : StudioComponentTestBase
{
    [Fact]
    public async Task The_admin_queue_lists_everyones_waiting_jobs_and_Cancel_cancels_another_persons_job()
    {
        AddGenerationServices();
        var admin = await AddUserAsync("admin@example.test");
        var bob = await AddUserAsync("bob@example.test");
        await using (var db = CreateDb())
        {
            var role = new IdentityRole(AppDbContext.AdminRole) { NormalizedName = AppDbContext.AdminRole.ToUpperInvariant() };
            db.Roles.Add(role);
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = admin.Id, RoleId = role.Id });
            await db.SaveChangesAsync();
        }
        var auth = AddAuthorization();
        auth.SetAuthorized(admin.Email!);
        auth.SetRoles(AppDbContext.AdminRole);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, admin.Id));
        UseRealResourceChecks();
        var bobs = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, bob.Id)], "test"));
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
}

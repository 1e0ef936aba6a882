using System.Security.Claims;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Components.Admin;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Components;

public sealed class AdminWorkersPageTests : StudioComponentTestBase
{
    private const string StartCommand = "dotnet run --project src/T2IStudio.Worker -- --server http://localhost --key <a worker key>";

    [Fact]
    public void The_workers_page_lists_each_connected_worker_with_its_kind_device_models_and_counts()
    {
        SignInAsAdmin(runWorker: true);
        var registry = Services.GetRequiredService<WorkerRegistry>();
        var gpu = registry.Join(Hello("gpu-box", "cuda:0 NVIDIA H200", "t2istudio-tiny", "sd15", "upscaler:t2istudio-tiny-x4"), WorkerKind.Remote, _ => Task.CompletedTask);
        for (var i = 0; i < 7; i++)
        {
            gpu.CountDone();
        }
        gpu.CountFailed();
        registry.Join(Hello("web-1", "cpu", "t2istudio-tiny"), WorkerKind.InProcess, _ => Task.CompletedTask);

        var page = Render<AdminWorkers>();

        page.WaitForAssertion(() =>
        {
            var rows = Rows(page);
            Assert.Equal(2, rows.Count);
            Assert.Equal(["gpu-box", "Remote", "cuda:0 NVIDIA H200", "sd15, t2istudio-tiny", "t2istudio-tiny-x4", "Idle", "7", "1"], rows[0][..8]);
            Assert.Equal(["web-1", "In process", "cpu", "t2istudio-tiny", "", "Idle", "0", "0"], rows[1][..8]);
            Assert.Matches(@"^\d+ s ago$", rows[0][8]);
            Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$", rows[0][9]);
        });
        // Accessible: the table is named, and each row is headed by its worker's name.
        Assert.Equal("Workers", page.Find("table").GetAttribute("aria-label"));
        var rowHeaders = page.FindAll("tbody tr th[scope=row]").Select(th => th.TextContent.Trim()).ToArray();
        Assert.Equal(["gpu-box", "web-1"], rowHeaders);
        Assert.Empty(page.FindAll("[data-testid=workers-none-warning]"));
    }

    [Fact]
    public void A_worker_that_takes_a_job_shows_Running_with_the_short_job_id_and_its_step()
    {
        SignInAsAdmin(runWorker: true);
        var registry = Services.GetRequiredService<WorkerRegistry>();
        var worker = registry.Join(Hello("gpu-box", "cuda:0", "t2istudio-tiny"), WorkerKind.Remote, _ => Task.CompletedTask);
        var page = Render<AdminWorkers>();
        page.WaitForAssertion(() => Assert.Equal("Idle", Rows(page).Single()[5]));

        var jobId = Guid.Parse("0123abcd-4567-89ef-0123-456789abcdef");
        worker.CurrentJobId = jobId;
        worker.CurrentStep = 3;
        registry.RaiseChanged();

        page.WaitForAssertion(() => Assert.Equal("Running 0123abcd · step 3", Rows(page).Single()[5]));
        Assert.Equal("1 running · 0 idle", page.Find("[data-testid=admin-workers-summary]").TextContent.Trim());

        // Companions leased beside it (cross-user batching) show with their own steps.
        worker.BatchJobIds[Guid.Parse("fedc0000-0000-0000-0000-000000000001")] = 2;
        registry.RaiseChanged();

        page.WaitForAssertion(() => Assert.Equal("Running 2 jobs 0123abcd · step 3fedc0000 · step 2", Rows(page).Single()[5]));
    }

    [Fact]
    public void The_list_updates_live_when_a_worker_joins_and_when_it_leaves()
    {
        SignInAsAdmin(runWorker: false);
        var registry = Services.GetRequiredService<WorkerRegistry>();
        var page = Render<AdminWorkers>();
        page.WaitForAssertion(() => Assert.Contains("No workers are connected.", page.Markup, StringComparison.Ordinal));

        var first = registry.Join(Hello("gpu-a", "cuda:0", "t2istudio-tiny"), WorkerKind.Remote, _ => Task.CompletedTask);
        page.WaitForAssertion(() => Assert.Equal(["gpu-a"], Names(page)));
        Assert.Empty(page.FindAll("[data-testid=workers-none-warning]"));

        registry.Join(Hello("gpu-b", "cuda:1", "t2istudio-tiny"), WorkerKind.Remote, _ => Task.CompletedTask);
        page.WaitForAssertion(() => Assert.Equal(["gpu-a", "gpu-b"], Names(page)));

        registry.Leave(first, "test");
        page.WaitForAssertion(() => Assert.Equal(["gpu-b"], Names(page)));
    }

    [Fact]
    public void With_no_worker_the_page_says_how_to_start_one_and_on_a_web_only_node_that_jobs_wait()
    {
        SignInAsAdmin(runWorker: false);

        var page = Render<AdminWorkers>();

        Assert.Empty(page.FindAll("table"));
        Assert.Contains("No workers are connected.", page.Markup, StringComparison.Ordinal);
        Assert.Equal(StartCommand, page.Find("[data-testid=worker-start-command]").TextContent.Trim());
        Assert.Equal("Jobs wait until a worker connects.", page.Find("[data-testid=workers-none-warning]").TextContent.Trim());
    }

    [Fact]
    public void With_no_worker_connected_yet_on_a_node_that_runs_its_own_there_is_no_warning()
    {
        SignInAsAdmin(runWorker: true);

        var page = Render<AdminWorkers>();

        Assert.Contains("No workers are connected.", page.Markup, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=workers-none-warning]"));
    }

    [Fact]
    public void The_page_is_for_the_Admin_policy_as_the_queue_page_is()
    {
        var workers = Assert.Single(typeof(AdminWorkers).GetCustomAttributes(typeof(Microsoft.AspNetCore.Authorization.AuthorizeAttribute), inherit: true));
        var queue = Assert.Single(typeof(AdminQueue).GetCustomAttributes(typeof(Microsoft.AspNetCore.Authorization.AuthorizeAttribute), inherit: true));
        Assert.Equal(T2IStudio.Web.Auth.StudioPolicies.Admin, ((Microsoft.AspNetCore.Authorization.AuthorizeAttribute)workers).Policy);
        Assert.Equal(((Microsoft.AspNetCore.Authorization.AuthorizeAttribute)queue).Policy, ((Microsoft.AspNetCore.Authorization.AuthorizeAttribute)workers).Policy);
    }

    private void SignInAsAdmin(bool runWorker)
    {
        Services.AddSingleton(Options.Create(new QueueOptions { RunWorker = runWorker }));
        var auth = AddAuthorization();
        auth.SetAuthorized("admin@example.test");
        auth.SetRoles(AppDbContext.AdminRole);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, "admin-id"));
    }

    private static WorkerHello Hello(string name, string device, params string[] models) =>
        new(Guid.NewGuid(), name, device, FreeMemoryBytes: null, models, Version: "test");

    private static List<string[]> Rows(IRenderedComponent<AdminWorkers> page) =>
        page.FindAll("tbody tr")
            .Select(row => row.Children.Select(cell => System.Text.RegularExpressions.Regex.Replace(cell.TextContent, @"\s+", " ").Trim()).ToArray())
            .ToList();

    private static string[] Names(IRenderedComponent<AdminWorkers> page) =>
        page.FindAll("tbody tr th[scope=row]").Select(th => th.TextContent.Trim()).ToArray();
}

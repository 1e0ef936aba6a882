using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Workers;

namespace T2IStudio.E2E.Tests;

/// <summary>Admin → Workers in a browser. A server of its own, so its first account is the admin.</summary>
public sealed class AdminWorkersTests(StudioServer server) : IClassFixture<StudioServer>
{
    [Fact]
    public async Task The_Admin_Workers_page_updates_live_when_a_worker_joins_and_leaves()
    {
        var admin = await server.NewPageAsync();
        await StudioPages.RegisterAsync(admin, "root@example.test");
        await admin.GetByRole(AriaRole.Link, new() { Name = "Workers", Exact = true }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Workers", Exact = true, Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(admin).ToHaveTitleAsync("Workers · Admin · T2I Studio");
        var gpu = admin.GetByRole(AriaRole.Rowheader, new() { Name = "e2e-gpu", Exact = true });
        await Assertions.Expect(gpu).ToHaveCountAsync(0);

        // The web process runs in this test process: a worker joins through the server's own registry, as the hub joins one.
        var registry = server.Services.GetRequiredService<WorkerRegistry>();
        var session = registry.Join(new WorkerHello(Guid.NewGuid(), "e2e-gpu", "cuda:3 test card", null, ["t2istudio-tiny"], "e2e"), WorkerKind.Remote, _ => Task.CompletedTask);
        try
        {
            var table = admin.GetByRole(AriaRole.Table, new() { Name = "Workers", Exact = true });
            var row = table.GetByRole(AriaRole.Row).Filter(new() { Has = admin.GetByRole(AriaRole.Rowheader, new() { Name = "e2e-gpu", Exact = true }) });
            await Assertions.Expect(row).ToHaveCountAsync(1);
            await Assertions.Expect(row.GetByRole(AriaRole.Cell, new() { Name = "Remote", Exact = true })).ToBeVisibleAsync();
            await Assertions.Expect(row.GetByRole(AriaRole.Cell, new() { Name = "cuda:3 test card", Exact = true })).ToBeVisibleAsync();
            await Assertions.Expect(row.GetByRole(AriaRole.Cell, new() { Name = "t2istudio-tiny", Exact = true })).ToBeVisibleAsync();
            await Assertions.Expect(row).ToContainTextAsync("Idle");
            // The relative heartbeat moves on by itself while nothing else changes.
            await Assertions.Expect(row).ToContainTextAsync(new Regex(@"\b[1-9]\d* s ago"), new() { Timeout = 30_000 });
            await StudioPages.ScreenshotAsync(admin, "admin-workers");
        }
        finally
        {
            registry.Leave(session, "test over");
        }

        await Assertions.Expect(gpu).ToHaveCountAsync(0);
        await StudioPages.ScreenshotAsync(admin, "admin-workers-after-leave");
    }
}

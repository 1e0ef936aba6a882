using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// Admin → Workers in a browser, with a real <c>T2IStudio.Worker</c> process joining with a key the admin made on
/// the Users page. A server of its own, so its first account is the admin; its in-process worker is on (the default).
/// </summary>
public sealed class AdminWorkersTests(StudioServer server) : IClassFixture<StudioServer>
{
    private const string AdminEmail = "root@example.test";
    private const string KeyName = "e2e render box";

    [Fact]
    public async Task The_Admin_Workers_page_updates_live_when_a_worker_joins_runs_a_job_and_is_killed()
    {
        var admin = await server.NewPageAsync();
        await StudioPages.RegisterAsync(admin, AdminEmail);

        // Admin → Users: name a key, create it, read it from the dialog once.
        await admin.GetByRole(AriaRole.Link, new() { Name = "Admin", Exact = true }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Worker keys", Exact = true, Level = 2 })).ToBeVisibleAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Table, new() { Name = "Users", Exact = true })).ToContainTextAsync(AdminEmail);
        await Assertions.Expect(admin.GetByRole(AriaRole.Table, new() { Name = "Models", Exact = true })).ToContainTextAsync("t2istudio-tiny");
        var key = await CreateWorkerKeyAsync(admin, KeyName);
        Assert.True(key.Length >= 32, $"A worker key is at least 32 characters, not {key.Length}.");

        // Admin → Workers: only the in-process worker so far.
        await admin.GetByRole(AriaRole.Link, new() { Name = "Workers", Exact = true }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Workers", Exact = true, Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(admin).ToHaveTitleAsync("Workers · Admin · T2I Studio");
        await StudioPages.WaitForInteractiveAsync(admin);
        var table = admin.GetByRole(AriaRole.Table, new() { Name = "Workers", Exact = true });
        var rows = table.GetByRole(AriaRole.Row).Filter(new() { Has = admin.GetByRole(AriaRole.Rowheader) });
        var inProcess = rows.Filter(new() { Has = admin.GetByRole(AriaRole.Cell, new() { Name = "In process", Exact = true }) });
        await Assertions.Expect(inProcess).ToHaveCountAsync(1);
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        // The relative heartbeat moves on by itself while nothing else changes.
        await Assertions.Expect(inProcess).ToContainTextAsync(new Regex(@"\b[1-9]\d* s ago"), new() { Timeout = 30_000 });

        var name = "e2e-" + Guid.NewGuid().ToString("N")[..8];
        var remote = rows.Filter(new() { Has = admin.GetByRole(AriaRole.Rowheader, new() { Name = name, Exact = true }) });
        await Assertions.Expect(remote).ToHaveCountAsync(0);

        using (var worker = WorkerProcess.Start(server.BaseUrl, key, name))
        {
            await worker.WaitUntilReadyAsync();
            // "Worker NAME ready: joined URL on DEVICE with models …": the page shows what the worker announced.
            var device = Regex.Match(worker.Output, $@"Worker {Regex.Escape(name)} ready: joined \S+ on (.+) with models ").Groups[1].Value;
            Assert.False(string.IsNullOrWhiteSpace(device), "The ready line names no device:\n" + worker.Output);

            // It shows up without a reload.
            await Assertions.Expect(remote).ToHaveCountAsync(1);
            await Assertions.Expect(rows).ToHaveCountAsync(2);
            await Assertions.Expect(remote.GetByRole(AriaRole.Cell, new() { Name = "Remote", Exact = true })).ToBeVisibleAsync();
            // The device it announced, and the memory it had free when it joined.
            await Assertions.Expect(remote.GetByRole(AriaRole.Cell, new() { NameRegex = new Regex($@"^{Regex.Escape(device)} [\d.]+ [GM]iB free at join$") })).ToBeVisibleAsync();
            await Assertions.Expect(remote.GetByRole(AriaRole.Cell, new() { Name = "t2istudio-tiny", Exact = true })).ToBeVisibleAsync();
            await Assertions.Expect(remote).ToContainTextAsync("Idle");
            await Assertions.Expect(admin.GetByTestId("admin-workers-summary")).ToHaveTextAsync("0 running · 2 idle");
            Assert.Equal(0, await JobsDoneAsync(admin));
            await StudioPages.ScreenshotAsync(admin, "admin-workers-joined");
            await ScreenshotAtPhoneWidthAsync(name);

            // The admin generates in another tab; which of the two workers runs it is up to them, the count is not.
            var create = await admin.Context.NewPageAsync();
            await create.GotoAsync("/");
            await StudioPages.WaitForInteractiveAsync(create);
            const string prompt = "a green square on a white background";
            var promptBox = create.GetByLabel("Prompt", new() { Exact = true });
            await promptBox.FillAsync(prompt);
            await promptBox.FocusAsync();
            await create.Keyboard.PressAsync("Control+Enter");
            var job = create.GetByRole(AriaRole.Listitem, new() { Name = $"Job: {prompt}" });
            await Assertions.Expect(job.GetByTestId("job-status")).ToHaveTextAsync(new Regex("^Done · 1 image"), new() { Timeout = 120_000 });

            // The Workers tab, never reloaded, has counted it on one worker.
            await admin.WaitForFunctionAsync(
                $"() => [...document.querySelectorAll('{JobsDoneCells}')].reduce((sum, cell) => sum + Number(cell.textContent.trim()), 0) === 1",
                null, new() { Timeout = 30_000 });
            Assert.Equal(1, await JobsDoneAsync(admin));
            await Assertions.Expect(admin.GetByTestId("admin-workers-summary")).ToHaveTextAsync("0 running · 2 idle");
            await create.CloseAsync();

            // kill -9: no goodbye, the connection drops, the row goes.
            worker.Kill();
            await Assertions.Expect(remote).ToHaveCountAsync(0);
            await Assertions.Expect(inProcess).ToHaveCountAsync(1);
            await Assertions.Expect(admin.GetByTestId("admin-workers-summary")).ToHaveTextAsync("0 running · 1 idle");
            await StudioPages.ScreenshotAsync(admin, "admin-workers-left");
        }

        // Revoke the key on the Users page: a worker that comes back with it is refused and exits with 2.
        await admin.GetByRole(AriaRole.Link, new() { Name = "Admin", Exact = true }).ClickAsync();
        await StudioPages.WaitForInteractiveAsync(admin);
        await admin.GetByRole(AriaRole.Button, new() { Name = $"Revoke worker key {KeyName}", Exact = true }).ClickAsync();
        var keys = admin.GetByRole(AriaRole.Table, new() { Name = "Worker keys", Exact = true });
        await Assertions.Expect(keys.GetByRole(AriaRole.Row).Filter(new() { HasText = KeyName })).ToContainTextAsync("Revoked");
        using var refused = WorkerProcess.Start(server.BaseUrl, key, name + "-again");
        Assert.Equal(2, await refused.WaitForExitAsync());
        Assert.Contains("The server refused this worker's key.", refused.Output, StringComparison.Ordinal);
        await admin.GetByRole(AriaRole.Link, new() { Name = "Workers", Exact = true }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Workers", Exact = true, Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(1);
    }

    /// <summary>The "Jobs done" cells of the Workers table (desktop and stacked layouts alike).</summary>
    private const string JobsDoneCells = "table[aria-label=\"Workers\"] td[data-label=\"Jobs done\"]";

    private static async Task<int> JobsDoneAsync(IPage page) =>
        (await page.Locator(JobsDoneCells).AllInnerTextsAsync()).Sum(text => int.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<string> CreateWorkerKeyAsync(IPage page, string name)
    {
        await page.GetByRole(AriaRole.Textbox, new() { Name = "Name", Exact = true }).FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key", Exact = true }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "New worker key", Exact = true });
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        var secret = dialog.GetByRole(AriaRole.Textbox, new() { Name = "Worker key", Exact = true });
        await Assertions.Expect(secret).ToHaveValueAsync(new Regex(@"^\S{32,}$"));
        var key = await secret.InputValueAsync();
        await StudioPages.ScreenshotAsync(page, "admin-worker-key-created");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Done", Exact = true }).ClickAsync();
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        // The list shows the key by name, active, never the secret again.
        var keys = page.GetByRole(AriaRole.Table, new() { Name = "Worker keys", Exact = true });
        await Assertions.Expect(keys.GetByRole(AriaRole.Row).Filter(new() { HasText = name })).ToContainTextAsync("Active");
        await Assertions.Expect(page.GetByText(key)).ToHaveCountAsync(0);
        return key;
    }

    /// <summary>The same page at phone width, for a person to look at (the table stacks into labelled cards).</summary>
    private async Task ScreenshotAtPhoneWidthAsync(string workerName)
    {
        var phone = await server.NewPageAsync(390, 844);
        await StudioPages.SignInAsync(phone, AdminEmail);
        await phone.GotoAsync("/admin/workers");
        await StudioPages.WaitForInteractiveAsync(phone);
        await StudioPages.ScreenshotAsync(phone, "admin-workers-phone");
        // Stacked, each cell's name starts with its label (MudBlazor's data-label ::before), so not an exact match.
        await Assertions.Expect(phone.GetByRole(AriaRole.Rowheader, new() { Name = workerName })).ToContainTextAsync(workerName);
        // Nothing wider than the screen: no sideways scrolling on a phone.
        Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "The Workers page scrolls sideways at 390 px.");
        await phone.Context.CloseAsync();
    }
}

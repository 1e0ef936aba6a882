using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using Xunit.Abstractions;

namespace T2IStudio.E2E.Tests.Cluster;

/// <summary>
/// Two real web nodes (separate processes) on one PostgreSQL database, one Redis and one image folder, one real
/// worker process given both nodes' addresses, and two people in Chromium: A on node 1, B on node 2.
/// </summary>
public sealed class ClusterTests(ITestOutputHelper output)
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string Key = "cluster-e2e-worker-key-0123456789abcdef01";
    private const string FirstPrompt = "a cluster poster";
    private const string SecondPrompt = "a failover poster";

    [Fact]
    public async Task A_on_node_1_and_B_on_node_2_share_a_team_gallery_live_and_a_job_outlives_the_node_it_was_submitted_to()
    {
        await using var database = await TestServices.CreatePostgresDatabaseAsync();
        var storage = Directory.CreateTempSubdirectory("t2i-cluster-").FullName;
        var settings = new Dictionary<string, string>
        {
            ["Database__Provider"] = "postgres",
            ["ConnectionStrings__Postgres"] = database.ConnectionString,
            ["ConnectionStrings__Redis"] = TestServices.Redis,
            ["Cluster__RedisPrefix"] = TestServices.NewRedisPrefix(),
            ["Storage__Root"] = storage,
            ["Queue__RunWorker"] = "false",
            ["Workers__Keys__0"] = Key,
        };
        // One after the other: the first creates the schema, the second finds it.
        using var node1 = await WebNodeProcess.StartAsync("node1", settings);
        using var node2 = await WebNodeProcess.StartAsync("node2", settings);
        using var worker = WorkerProcess.Start($"{node1.Url},{node2.Url}", Key, "cluster-worker");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var pages = new List<(string Name, IPage Page)>();
        try
        {
            await worker.WaitUntilReadyAsync();
            Assertions.SetDefaultExpectTimeout(20_000);
            var a = await NewPageAsync(browser, node1.Url);
            var b = await NewPageAsync(browser, node2.Url);
            pages.Add(("a-node1", a));
            pages.Add(("b-node2", b));

            // A registers on node 1 (the first account: Admin), B on node 2.
            await StudioPages.RegisterAsync(a, "ada@example.test");
            await StudioPages.RegisterAsync(b, "bob@example.test");

            // A makes a team on node 1 and invites B as an editor; B, looking at the team list on node 2, accepts.
            await b.GotoAsync("/teams");
            await StudioPages.WaitForInteractiveAsync(b);
            await a.GotoAsync("/teams");
            await StudioPages.WaitForInteractiveAsync(a);
            await a.GetByRole(AriaRole.Button, new() { Name = "New team" }).ClickAsync();
            await a.GetByLabel("Team name").FillAsync("Cluster crew");
            await a.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
            await Assertions.Expect(a.GetByRole(AriaRole.Heading, new() { Name = "Cluster crew", Level = 1 })).ToBeVisibleAsync();
            var teamUrl = a.Url;
            await a.GetByLabel("Member email").FillAsync("bob@example.test");
            await ChooseAsync(a, "Role", "Editor");
            await a.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
            await Assertions.Expect(a.Locator("tr[data-invitation='bob@example.test']")).ToContainTextAsync("Editor");
            var accept = b.GetByRole(AriaRole.Button, new() { Name = "Accept the invitation to Cluster crew" });
            await Assertions.Expect(accept).ToBeVisibleAsync(); // arrived on node 2 without a reload
            await accept.ClickAsync();
            await Assertions.Expect(b.GetByRole(AriaRole.Link, new() { Name = "Cluster crew", Exact = true })).ToBeVisibleAsync();
            await Assertions.Expect(a.Locator("tr[data-member='bob@example.test']")).ToContainTextAsync("Editor");
            await StudioPages.ScreenshotAsync(a, "cluster-team-node1");

            // A makes a team gallery on node 1; B opens it on node 2 and keeps looking.
            await a.GotoAsync("/gallery");
            await StudioPages.WaitForInteractiveAsync(a);
            await a.GetByRole(AriaRole.Button, new() { Name = "New gallery" }).ClickAsync();
            await a.GetByLabel("Gallery name").FillAsync("Moodboard");
            await ChooseAsync(a, "Owned by", "Cluster crew");
            await a.GetByRole(AriaRole.Button, new() { Name = "Create gallery" }).ClickAsync();
            await Assertions.Expect(a.GetByText("This gallery is empty")).ToBeVisibleAsync();
            await OpenTeamGalleryAsync(b);
            await Assertions.Expect(b.GetByText("This gallery is empty")).ToBeVisibleAsync();

            // A generates into it from node 1; B sees the progress, then the image, on node 2 without reloading.
            await a.GotoAsync("/");
            await StudioPages.WaitForInteractiveAsync(a);
            await a.GetByLabel("Prompt", new() { Exact = true }).FillAsync(FirstPrompt);
            await SetNumberAsync(a, "Steps", "150");
            await SetNumberAsync(a, "Batch count", "1");
            await ChooseAsync(a, "Save to", "Moodboard (Cluster crew)");
            var submitToScreen = Stopwatch.StartNew();
            await a.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
            var inProgress = b.GetByRole(AriaRole.List, new() { Name = "In progress" });
            await Assertions.Expect(inProgress.GetByRole(AriaRole.Progressbar)).ToBeVisibleAsync();
            await StudioPages.ScreenshotAsync(b, "cluster-progress-node2");
            var bTile = b.GetByRole(AriaRole.Button, new() { Name = $"Open image: {FirstPrompt}" });
            await Assertions.Expect(bTile).ToBeVisibleAsync(new() { Timeout = 120_000 });
            submitToScreen.Stop();
            await ReportTimingAsync(submitToScreen.Elapsed);
            await StudioPages.ScreenshotAsync(b, "cluster-image-node2");

            // A opens the image on node 1; B opens it on node 2 and comments; the comment appears on A's screen.
            await OpenTeamGalleryAsync(a);
            await a.GetByRole(AriaRole.Button, new() { Name = $"Open image: {FirstPrompt}" }).ClickAsync();
            var aViewer = a.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
            await Assertions.Expect(aViewer.GetByText("No comments yet.")).ToBeVisibleAsync();
            await bTile.ClickAsync();
            var bViewer = b.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
            await Assertions.Expect(bViewer.GetByText("No comments yet.")).ToBeVisibleAsync();
            await bViewer.GetByLabel("Comment", new() { Exact = true }).FillAsync("Sharp, from node 2");
            await bViewer.GetByRole(AriaRole.Button, new() { Name = "Add comment" }).ClickAsync();
            await Assertions.Expect(aViewer.GetByText("Sharp, from node 2")).ToBeVisibleAsync();
            await StudioPages.ScreenshotAsync(a, "cluster-comment-node1");
            await b.Keyboard.PressAsync("Escape");
            await a.Keyboard.PressAsync("Escape");

            // A removes B on node 1: B's gallery page on node 2 closes with a message.
            await a.GotoAsync(teamUrl);
            await StudioPages.WaitForInteractiveAsync(a);
            await a.Locator("tr[data-member='bob@example.test']").GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
            await Assertions.Expect(b.GetByText("You are no longer a member of Cluster crew; its gallery is closed.")).ToBeVisibleAsync();
            await Assertions.Expect(b.GetByRole(AriaRole.Button, new() { Name = $"Open image: {FirstPrompt}" })).ToHaveCountAsync(0);
            await StudioPages.ScreenshotAsync(b, "cluster-removed-node2");

            // A submits a second, longer job from node 1; node 1 dies (SIGKILL) while it runs.
            await a.GotoAsync("/");
            await StudioPages.WaitForInteractiveAsync(a);
            await a.GetByLabel("Prompt", new() { Exact = true }).FillAsync(SecondPrompt);
            await SetNumberAsync(a, "Steps", "150");
            await ChooseAsync(a, "Width", "128 px");
            await ChooseAsync(a, "Height", "128 px");
            await ChooseAsync(a, "Save to", "Moodboard (Cluster crew)");
            await a.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
            var job = a.GetByRole(AriaRole.Listitem, new() { Name = $"Job: {SecondPrompt}" });
            await Assertions.Expect(job.GetByRole(AriaRole.Progressbar)).ToHaveAttributeAsync("aria-valuenow", new Regex("^[1-9][0-9]?$"));
            await StudioPages.ScreenshotAsync(a, "cluster-running-node1");
            node1.Kill();
            var atKill = await SecondJobAsync(database.ConnectionString);
            Assert.Equal(JobStatus.Running, atKill.Status);

            // The worker reports to node 2, the job completes; A signs in again on node 2 and sees the image.
            var a2 = await NewPageAsync(browser, node2.Url);
            pages.Add(("a-node2", a2));
            await StudioPages.SignInAsync(a2, "ada@example.test");
            await OpenTeamGalleryAsync(a2);
            await Assertions.Expect(a2.GetByRole(AriaRole.Button, new() { Name = $"Open image: {SecondPrompt}" })).ToBeVisibleAsync(new() { Timeout = 120_000 });
            await Assertions.Expect(a2.GetByRole(AriaRole.Button, new() { Name = $"Open image: {FirstPrompt}" })).ToBeVisibleAsync();
            await StudioPages.ScreenshotAsync(a2, "cluster-after-failover-node2");

            var finished = await SecondJobAsync(database.ConnectionString);
            Assert.Equal(JobStatus.Completed, finished.Status);
            Assert.Equal(1, finished.Attempts); // node 2 adopted the lease: the run begun under node 1 is the one that finished
            Assert.Equal("cluster-worker", finished.WorkerName);
            Assert.Contains($"Reconnected to {node2.Url}/hubs/workers", worker.Output, StringComparison.Ordinal);

            // Node 2's /health: PostgreSQL, Redis connected, and the worker now connected to it.
            var health = await a2.Context.APIRequest.GetAsync(node2.Url + "/health");
            Assert.Equal(200, health.Status);
            using var report = JsonDocument.Parse(await health.TextAsync());
            var root = report.RootElement;
            Assert.Equal("node2", root.GetProperty("node").GetString());
            Assert.Equal("postgres", root.GetProperty("database").GetProperty("provider").GetString());
            Assert.Equal("Connected", root.GetProperty("redis").GetProperty("status").GetString());
            var onNode2 = root.GetProperty("workers").GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node").GetString() == "node2");
            Assert.Equal(1, onNode2.GetProperty("connected").GetInt32());
        }
        catch
        {
            foreach (var (name, page) in pages)
            {
                await TryScreenshotAsync(page, "cluster-failed-" + name);
            }
            output.WriteLine($"--- node1:\n{Tail(node1.Output)}\n--- node2:\n{Tail(node2.Output)}\n--- worker:\n{Tail(worker.Output)}");
            throw;
        }
        finally
        {
            await File.WriteAllTextAsync(Path.Combine(StudioServer.ScreenshotDirectory, "cluster-node1.log"), node1.Output);
            await File.WriteAllTextAsync(Path.Combine(StudioServer.ScreenshotDirectory, "cluster-node2.log"), node2.Output);
            await File.WriteAllTextAsync(Path.Combine(StudioServer.ScreenshotDirectory, "cluster-worker.log"), worker.Output);
            node1.Dispose();
            node2.Dispose();
            worker.Dispose();
            try
            {
                Directory.Delete(storage, recursive: true);
            }
            catch (IOException)
            {
                // The OS temp cleaner takes it.
            }
        }
    }

    private static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"Chromium is missing at {ChromiumPath}. Install it with: sudo apt-get install -y chromium");
        }
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        });
    }

    /// <summary>A fresh context (its own cookies) on one node, at desktop size.</summary>
    private static async Task<IPage> NewPageAsync(IBrowser browser, string baseUrl)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            ColorScheme = ColorScheme.Light,
        });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    private static async Task OpenTeamGalleryAsync(IPage page)
    {
        await page.GotoAsync("/gallery");
        await StudioPages.WaitForInteractiveAsync(page);
        await ChooseAsync(page, "Gallery", "Moodboard (Cluster crew)");
    }

    private static async Task SetNumberAsync(IPage page, string label, string value)
    {
        var field = page.GetByLabel(label, new() { Exact = true });
        await field.FillAsync(value);
        await field.PressAsync("Tab");
    }

    /// <summary>
    /// Picks <paramref name="option"/> in the MudSelect labelled <paramref name="label"/> and waits until the select
    /// shows it; a pick the select missed (its list opened while the page re-rendered) is made again.
    /// </summary>
    private static async Task ChooseAsync(IPage page, string label, string option)
    {
        var select = page.GetByLabel(label, new() { Exact = true });
        for (var attempt = 1; ; attempt++)
        {
            await select.ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Option)).ToHaveCountAsync(0);
            try
            {
                // A MudSelect's combobox is an input showing the choice as its value (its items exist only while
                // open); other selects show it as their text.
                if (await select.EvaluateAsync<bool>("e => e instanceof HTMLInputElement"))
                {
                    await Assertions.Expect(select).ToHaveValueAsync(option, new() { Timeout = 5_000 });
                }
                else
                {
                    await Assertions.Expect(select).ToContainTextAsync(option, new() { Timeout = 5_000 });
                }
                return;
            }
            catch (PlaywrightException) when (attempt < 3)
            {
                // Not taken: open the list and pick again.
            }
        }
    }

    private static async Task<Job> SecondJobAsync(string connectionString)
    {
        var options = DataServiceExtensions.UsePostgres(new DbContextOptionsBuilder<AppDbContext>(), connectionString);
        await using var db = new AppDbContext((DbContextOptions<AppDbContext>)options.Options);
        return await db.Jobs.AsNoTracking().SingleAsync(j => j.Prompt == SecondPrompt);
    }

    private async Task ReportTimingAsync(TimeSpan elapsed)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"Submit on node 1 to image on node 2's screen: {elapsed.TotalMilliseconds:F0} ms (150 steps, 64x64, t2istudio-tiny on CPU, measured {DateTime.UtcNow:O})");
        output.WriteLine(line);
        await File.WriteAllTextAsync(Path.Combine(RepositoryRoot.Path, "artifacts", "cluster-timing.txt"), line + Environment.NewLine);
    }

    private static async Task TryScreenshotAsync(IPage page, string name)
    {
        try
        {
            await StudioPages.ScreenshotAsync(page, name);
        }
        catch (PlaywrightException)
        {
            // The page's node is gone; the logs tell the story.
        }
    }

    private static string Tail(string text) => text.Length <= 12_000 ? text : text[^12_000..];
}

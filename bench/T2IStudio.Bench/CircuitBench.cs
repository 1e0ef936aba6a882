using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Teams;

namespace T2IStudio.Bench;

/// <summary>
/// What an idle Blazor circuit costs the server, per page: the real web app on Kestrel in this process (so it can
/// force a full GC and read the managed heap and the process RSS), N Chromium tabs opened on one page, left idle,
/// measured, closed; after the disconnected-circuit retention period the heap is measured again against the baseline.
/// </summary>
internal static class CircuitBench
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string Email = "bench@example.test";
    private const string Password = "Correct-horse-9";

    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        var tabs = int.Parse(Arg("--tabs", "40"), CultureInfo.InvariantCulture);
        var images = int.Parse(Arg("--images", "200"), CultureInfo.InvariantCulture);
        var idle = TimeSpan.FromSeconds(double.Parse(Arg("--idle", "5"), CultureInfo.InvariantCulture));
        var retention = TimeSpan.FromSeconds(double.Parse(Arg("--retention", "5"), CultureInfo.InvariantCulture));
        var only = Arg("--pages", "create,gallery,inpaint,team").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var breakdown = args.Contains("--breakdown");
        var gcdump = Arg("--gcdump", "");
        var screenshots = Arg("--screenshots", "");
        var root = Arg("--root", T2IStudio.Testing.RepositoryRoot.Path);
        var storage = Directory.CreateTempSubdirectory("t2i-circuits-").FullName;
        var port = FreePort();

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = root,
            EnvironmentName = "Production",
            // The static web assets manifest (blazor.web.js, MudBlazor's files) is the web app's, not the bench's.
            ApplicationName = "T2IStudio.Web",
        });
        // A build's manifest names the framework's and MudBlazor's files where the build left them (a published app
        // carries them in its wwwroot instead).
        builder.WebHost.UseStaticWebAssets();
        builder.Configuration["Storage:Root"] = storage;
        builder.Configuration["Generation:Device"] = "cpu";
        builder.Configuration["Urls"] = $"http://127.0.0.1:{port}";
        builder.Configuration["Logging:LogLevel:Default"] = "Warning";
        builder.AddStudioData();
        builder.AddStudioGeneration();
        builder.AddStudioWeb();
        // The bench's own: how long a closed tab's circuit is kept for a reconnect, and a count of open circuits so
        // the bench waits for circuits to open and to be released instead of sleeping.
        builder.Services.Configure<CircuitOptions>(options => options.DisconnectedCircuitRetentionPeriod = retention);
        var counter = new CircuitCounter();
        builder.Services.AddSingleton(counter);
        builder.Services.AddScoped<CircuitHandler>(sp => sp.GetRequiredService<CircuitCounter>().Handler());
        await using var app = builder.Build();
        app.UseStudioPipeline();
        app.MapStudioEndpoints();
        await app.StartAsync();
        var baseUrl = $"http://127.0.0.1:{port}";
        try
        {
            var (teamGalleryId, personalGalleryId) = await SeedAsync(app.Services, images);
            var pages = new (string Name, string Path, string Ready)[]
            {
                ("create", "/create", "textarea"),
                ("gallery", "/gallery", "button.studio-tile"),
                ("inpaint", "/inpaint", ".studio-thumb-large"),
                ("team", $"/gallery?g={teamGalleryId}", "button.studio-tile"),
                ("personal", $"/gallery?g={personalGalleryId}", "button.studio-tile"),
            }.Where(p => only.Contains(p.Name)).ToList();

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args =
                [
                    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                ],
            });
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
            context.SetDefaultTimeout(60_000);
            await SignInAsync(context);

            Console.WriteLine($"circuits  {tabs} idle Chromium tabs per page, idle {idle.TotalSeconds:0} s, retention {retention.TotalSeconds:0} s, {images} images, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, {Environment.ProcessorCount} cores");
            Console.WriteLine($"{"page",-9} {"heap base",10} {"heap open",10} {"heap/circ",10} {"marginal",10} {"RSS/circ",10} {"500 tabs",10} {"heap closed",12} {"left",8}");
            foreach (var (name, path, ready) in pages)
            {
                // Warm-up: the first visit JITs the page and fills the app's caches, which are not the circuit's cost.
                await OpenAndCloseAsync(context, counter, path, ready, 2);
                if (screenshots.Length > 0)
                {
                    // In a tab of its own, closed before the baseline: opening lists and menus leaves nothing behind.
                    var shot = await OpenAsync(context, counter, path, ready, 1);
                    await ScreenshotsAsync(screenshots, name, shot);
                    await CloseAllAsync([shot], counter);
                }
                var baseline = Measure();
                await GcDumpAsync(gcdump, $"{name}-base");
                var open = new List<IPage>();
                (long Heap, long Rss) half = default;
                for (var i = 0; i < tabs; i++)
                {
                    open.Add(await OpenAsync(context, counter, path, ready, i + 1));
                    if (i + 1 == tabs / 2)
                    {
                        await Task.Delay(idle);
                        half = Measure();
                    }
                }
                await Task.Delay(idle); // the idle period itself (readiness was waited for above)
                var loaded = Measure();
                await GcDumpAsync(gcdump, $"{name}-open");
                if (breakdown)
                {
                    CircuitBreakdown.Print(name, counter.Latest);
                }
                await CloseAllAsync(open, counter);
                var closed = Measure();
                var heapPer = (loaded.Heap - baseline.Heap) / (double)tabs;
                var rssPer = (loaded.Rss - baseline.Rss) / (double)tabs;
                var marginal = (loaded.Heap - half.Heap) / (double)(tabs - tabs / 2);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-9} {Mb(baseline.Heap),10} {Mb(loaded.Heap),10} {Kb(heapPer),10} {Kb(marginal),10} {Kb(rssPer),10} {Mb(heapPer * 500),10} {Mb(closed.Heap),12} {Kb(closed.Heap - baseline.Heap),8}"));
            }
            Console.WriteLine("          heap = GC.GetTotalMemory after a full blocking compacting GC; per circuit = (open - base) / tabs;");
            Console.WriteLine("          marginal = (open - open with half the tabs) / (the other half): one more circuit's cost, without what the first");
            Console.WriteLine("          connections grow once (Kestrel's and SignalR's buffer pools, caches);");
            Console.WriteLine("          500 tabs = heap per circuit x 500; closed = after every tab closed and its circuit released; left = closed - base");
            Console.WriteLine($"          subscriptions left {app.Services.GetRequiredService<StudioNotifier>().SubscriptionCount}, presence entries left {app.Services.GetRequiredService<GalleryPresence>().VisitCount}");
            return 0;
        }
        finally
        {
            await app.StopAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(storage, recursive: true);
        }
    }

    private static string Mb(double bytes) => (bytes / 1024 / 1024).ToString("0.0", CultureInfo.InvariantCulture) + " MB";

    private static string Kb(double bytes) => (bytes / 1024).ToString("0", CultureInfo.InvariantCulture) + " KB";

    /// <summary>
    /// With <c>--gcdump DIR</c>, a heap snapshot by type (dotnet-gcdump, a global tool) of this very process, for
    /// <c>dotnet-gcdump report</c>: what the circuits hold, diffed against the baseline's.
    /// </summary>
    private static async Task GcDumpAsync(string folder, string name)
    {
        if (folder.Length == 0)
        {
            return;
        }
        Directory.CreateDirectory(folder);
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-gcdump");
        var start = new ProcessStartInfo(File.Exists(tool) ? tool : "dotnet-gcdump", ["collect", "-p", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "-o", Path.Combine(folder, name + ".gcdump")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
    }

    /// <summary>
    /// With <c>--screenshots DIR</c>, each page as a PNG and its HTML, and on Create also with the Model select, the
    /// notifications bell and the account menu open: a component cut must leave the page looking and reading the same.
    /// </summary>
    private static async Task ScreenshotsAsync(string folder, string name, IPage page)
    {
        Directory.CreateDirectory(folder);
        // Create whole; the galleries' 200 tiles make a full page too tall to look at, so their first screen.
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = name == "create" });
        await File.WriteAllTextAsync(Path.Combine(folder, name + ".html"), await page.Locator(".mud-layout").InnerHTMLAsync());
        if (name != "create")
        {
            return;
        }
        async Task OpenedAsync(string what, Func<Task> open, ILocator shown)
        {
            await page.ReloadAsync();
            await page.Locator(".mud-layout[data-interactive='true']").WaitForAsync();
            await open();
            await shown.First.WaitForAsync();
            await Task.Delay(500); // MudBlazor's popovers fade in (250 ms)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"{name}-{what}.png") });
            await File.WriteAllTextAsync(Path.Combine(folder, $"{name}-{what}.html"), await page.Locator("body").InnerHTMLAsync());
        }
        await OpenedAsync("select-open", () => page.GetByLabel("Model", new() { Exact = true }).ClickAsync(), page.GetByRole(AriaRole.Option));
        await OpenedAsync("bell-open", () => page.GetByRole(AriaRole.Button, new() { Name = "Notifications" }).ClickAsync(), page.GetByText("You have no notifications."));
        await OpenedAsync("account-open", () => page.GetByRole(AriaRole.Button, new() { Name = "bench", Exact = true }).ClickAsync(), page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }));
    }

    private static (long Heap, long Rss) Measure()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var self = Process.GetCurrentProcess();
        return (heap, self.WorkingSet64);
    }

    private static async Task OpenAndCloseAsync(IBrowserContext context, CircuitCounter counter, string path, string ready, int count)
    {
        var pages = new List<IPage>();
        for (var i = 0; i < count; i++)
        {
            pages.Add(await OpenAsync(context, counter, path, ready, i + 1));
        }
        await CloseAllAsync(pages, counter);
    }

    /// <summary>Opens a tab on <paramref name="path"/> and waits until its circuit is interactive and the page has drawn.</summary>
    private static async Task<IPage> OpenAsync(IBrowserContext context, CircuitCounter counter, string path, string ready, int expectedOpen)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(path);
        await page.Locator(".mud-layout[data-interactive='true']").WaitForAsync();
        await page.Locator(ready).First.WaitForAsync();
        await counter.WaitForAsync(expectedOpen);
        return page;
    }

    private static async Task CloseAllAsync(List<IPage> pages, CircuitCounter counter)
    {
        foreach (var page in pages)
        {
            await page.CloseAsync();
        }
        // Released: the circuit closed (a tab's unload tells the server at once; otherwise after the retention period).
        await counter.WaitForAsync(0);
    }

    private static async Task SignInAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/Account/Login");
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(Email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.Locator(".mud-layout[data-interactive='true']").WaitForAsync();
        await page.CloseAsync();
    }

    /// <summary>The account, its images (in its own library and a personal gallery) and a team gallery holding them too.</summary>
    private static async Task<(Guid Team, Guid Personal)> SeedAsync(IServiceProvider services, int count)
    {
        using var scope = services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var account = new AppUser { UserName = Email, Email = Email, DisplayName = "bench", CreatedAt = DateTimeOffset.UtcNow };
        if (!(await users.CreateAsync(account, Password)).Succeeded)
        {
            throw new InvalidOperationException("Could not create the benchmark account.");
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, account.Id)], "bench"));
        var store = services.GetRequiredService<ImageStore>();
        var dbFactory = services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<AppDbContext>>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var team = await teams.CreateAsync(principal, "Bench team");
        var teamGallery = await galleries.CreateAsync(principal, "Team board", team.Id ?? throw new InvalidOperationException(team.FirstErrorOr("no team")));
        var personal = await galleries.CreateAsync(principal, "Mine", null);
        var now = DateTimeOffset.UtcNow;
        var ids = new List<Guid>();
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            for (var i = 0; i < count; i++)
            {
                var pixels = new byte[64 * 64 * 3];
                for (var p = 0; p < pixels.Length; p += 3)
                {
                    pixels[p] = (byte)(i * 37);
                    pixels[p + 1] = (byte)(p / 192 * 4);
                    pixels[p + 2] = (byte)(255 - i);
                }
                var stored = new StoredRequest
                {
                    Model = "t2istudio-tiny", Prompt = $"bench image {i}", Steps = 12, GuidanceScale = 6.5, Width = 64, Height = 64,
                    Seed = (ulong)i, Scheduler = SchedulerKind.DpmPlusPlus2M,
                };
                var rgb = new RgbImage(64, 64, pixels);
                var file = await store.WriteAsync(rgb, GenerationMetadata.EncodePng(rgb, stored, "abcdef0123"));
                var made = now.AddSeconds(-count + i);
                var job = new Job
                {
                    Id = Guid.NewGuid(), OwnerId = account.Id, Status = JobStatus.Completed, Model = stored.Model, Prompt = stored.Prompt,
                    RequestJson = GenerationMetadata.ToJson(stored), BatchSize = 1, TotalSteps = stored.Steps, Step = stored.Steps,
                    Width = 64, Height = 64, CreatedAt = made, FinishedAt = made,
                };
                var image = new GeneratedImage
                {
                    Id = Guid.NewGuid(), OwnerId = account.Id, JobId = job.Id, Seed = stored.Seed, Model = stored.Model, ModelHash = "abcdef0123",
                    Prompt = stored.Prompt, NegativePrompt = "", Width = 64, Height = 64, RequestJson = GenerationMetadata.ToJson(stored),
                    FileKey = file.Key, Sha256 = file.Sha256, SizeBytes = file.SizeBytes, CreatedAt = made,
                };
                db.Jobs.Add(job);
                db.Images.Add(image);
                ids.Add(image.Id);
            }
            await db.SaveChangesAsync();
        }
        foreach (var id in ids)
        {
            await galleries.AddAsync(principal, teamGallery.Id!.Value, id);
            await galleries.AddAsync(principal, personal.Id!.Value, id);
        }
        return (teamGallery.Id!.Value, personal.Id!.Value);
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Counts open circuits, and lets the bench wait for a count (circuits opened, or all released).</summary>
    private sealed class CircuitCounter
    {
        private readonly Lock _gate = new();
        private int _open;

        /// <summary>The circuit opened last (for <c>--breakdown</c>).</summary>
        public Circuit? Latest { get; private set; }
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CircuitHandler Handler() => new Counting(this);

        public async Task WaitForAsync(int count)
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                Task changed;
                lock (_gate)
                {
                    if (_open == count)
                    {
                        return;
                    }
                    changed = _changed.Task;
                }
                var left = TimeSpan.FromMinutes(3) - deadline.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException($"{_open} circuits open, waiting for {count}.");
                }
                await changed.WaitAsync(left).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        private void Add(int delta)
        {
            TaskCompletionSource changed;
            lock (_gate)
            {
                _open += delta;
                changed = _changed;
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            changed.TrySetResult();
        }

        private sealed class Counting(CircuitCounter owner) : CircuitHandler
        {
            public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
            {
                owner.Latest = circuit;
                owner.Add(1);
                return Task.CompletedTask;
            }

            public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken)
            {
                owner.Add(-1);
                return Task.CompletedTask;
            }
        }
    }
}

using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// The real app on a real Kestrel port (a fresh SQLite database each), plus Debian's Chromium driven by
/// Playwright. One per test class, so "the first account is Admin" holds in every class. A subclass adds settings
/// and starts servers the app talks to (an OpenID provider, an SMTP sink) before the app starts, knowing its address.
/// </summary>
public class StudioServer : IAsyncLifetime
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private readonly string _storageRoot = Directory.CreateTempSubdirectory("t2i-e2e-").FullName;
    private KestrelFactory? _factory;
    private IPlaywright? _playwright;

    /// <summary>The app's base address, e.g. http://127.0.0.1:41234.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The browser; each test opens its own contexts (separate cookie jars).</summary>
    public IBrowser Browser { get; private set; } = default!;

    /// <summary>The app's services, for arranging state that is not under test.</summary>
    public IServiceProvider Services => _factory!.Services;

    /// <summary>Where screenshots go (looked at by people, not asserted on).</summary>
    public static string ScreenshotDirectory { get; } = Directory.CreateDirectory(
        Path.Combine(RepositoryRoot.Path, "artifacts", "screenshots")).FullName;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"Chromium is missing at {ChromiumPath}. Install it with: sudo apt-get install -y chromium");
        }
        // The port is chosen first, so settings (Network:PublicBaseUrl, a provider's redirect address) can name it.
        var port = FreeLoopbackPort();
        BaseUrl = $"http://127.0.0.1:{port}";
        await BeforeStartAsync(BaseUrl);
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Storage:Root"] = _storageRoot };
        foreach (var (key, value) in Settings(BaseUrl))
        {
            settings[key] = value;
        }
        _factory = new KestrelFactory(settings);
        _factory.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, port));
        _factory.StartServer();

        _playwright = await Playwright.CreateAsync();
        // CI runs the test projects side by side on two cores: give expectations room, never a sleep.
        Assertions.SetDefaultExpectTimeout(15_000);
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
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

    /// <summary>A fresh browser context (its own cookies) with a page at desktop size.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = ColorScheme.Light,
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        // Browser console errors land beside the screenshots: the first place to look when a circuit fails.
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                File.AppendAllText(Path.Combine(ScreenshotDirectory, "browser-console.log"), $"{DateTime.UtcNow:O} {message.Type}: {message.Text}{Environment.NewLine}");
            }
        };
        return page;
    }

    /// <summary>Settings the app starts with, beside its own storage folder.</summary>
    /// <param name="baseUrl">The address the app will listen at, e.g. http://127.0.0.1:41234.</param>
    protected virtual IEnumerable<KeyValuePair<string, string?>> Settings(string baseUrl) => [];

    /// <summary>Starts what the app needs before it starts (the app's address is known by then).</summary>
    protected virtual Task BeforeStartAsync(string baseUrl) => Task.CompletedTask;

    /// <summary>Stops what <see cref="BeforeStartAsync"/> started, after the app and browser are gone.</summary>
    protected virtual Task AfterStopAsync() => Task.CompletedTask;

    /// <summary>A loopback port nobody listens on right now.</summary>
    public static int FreeLoopbackPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await AfterStopAsync();
        try
        {
            Directory.Delete(_storageRoot, recursive: true);
        }
        catch (IOException)
        {
            // The OS temp cleaner takes it.
        }
    }

    private sealed class KestrelFactory(Dictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSolutionRelativeContentRoot(".");
            builder.UseEnvironment("Development");
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
            // Also as host settings: what Program reads from builder.Configuration before Build (the OIDC scheme) sees them.
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
            // Server-side warnings and errors land beside the screenshots: a failed click often has its cause here.
            builder.ConfigureLogging(logging => logging.AddProvider(new FileLoggerProvider(Path.Combine(ScreenshotDirectory, "server.log"))));
        }
    }
}

/// <summary>Appends warnings and errors to one file.</summary>
internal sealed class FileLoggerProvider(string path) : Microsoft.Extensions.Logging.ILoggerProvider
{
    private static readonly Lock Gate = new();

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new FileLogger(path, categoryName);

    public void Dispose()
    {
    }

    private sealed class FileLogger(string path, string category) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Warning;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            lock (Gate)
            {
                File.AppendAllText(path, $"{DateTime.UtcNow:O} {logLevel} {category}: {formatter(state, exception)}{Environment.NewLine}{(exception is null ? "" : exception + Environment.NewLine)}");
            }
        }
    }
}

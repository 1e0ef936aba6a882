using Bunit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.JSInterop;
using MudBlazor.Services;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Tests.Infrastructure;

/// <summary>
/// bUnit with the app's own service registration (<c>AddStudioData</c>, <c>AddStudioGeneration</c>,
/// <c>AddStudioWeb</c>, as <c>Program.cs</c> calls them) on a real, migrated SQLite database in a temporary
/// folder, so components read and write real rows through the services the app really has. Hosted services
/// (the in-process worker, recovery, sweeps) do not run; bUnit keeps its own renderer-side services (JS interop,
/// navigation, the authentication placeholders); MudBlazor runs without transitions and JS interop is loose.
/// </summary>
public abstract class StudioComponentTestBase : BunitContext, IAsyncLifetime
{
    // Services bUnit must own even where it registers them under another type than the app does.
    private static readonly Type[] BunitOwned =
    [
        typeof(IJSRuntime),
        typeof(NavigationManager),
        typeof(INavigationInterception),
        typeof(IScrollToLocationHash),
        typeof(AuthenticationStateProvider),
    ];

    private readonly string _root = Directory.CreateTempSubdirectory("t2i-bunit-").FullName;

    private readonly DbContextOptions<AppDbContext> _dbOptions;

    private readonly ConfigurationManager _configuration;

    protected StudioComponentTestBase()
    {
        _dbOptions = new DbContextOptionsBuilder<AppDbContext>().UseSqlite(StudioDatabase.ConnectionString(_root)).Options;
        // CI runs test projects side by side on two cores: waits get room (they return as soon as they pass).
        DefaultWaitTimeout = TimeSpan.FromSeconds(15);
        JSInterop.Mode = JSRuntimeMode.Loose;
        _configuration = AddAppServices();
        Services.AddMudServices(options => options.SnackbarConfiguration.ShowTransitionDuration = 0);
        Services.AddSingleton<AntiforgeryStateProvider, FixedAntiforgeryStateProvider>();
        using var db = CreateDb();
        db.Database.Migrate();
    }

    /// <summary>
    /// Registers what <c>Program.cs</c> registers, configured for this test (its database and files in the
    /// temporary folder, the CPU, no in-process worker), and returns that configuration for later overrides.
    /// </summary>
    private ConfigurationManager AddAppServices()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = RepositoryRoot.Path,
            EnvironmentName = Environments.Development,
            ApplicationName = typeof(Program).Assembly.GetName().Name,
            // One builder per test: appsettings files are read once, not watched.
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{StorageOptions.Section}:{nameof(StorageOptions.Root)}"] = _root,
            [$"{StorageQuotaOptions.Section}:{nameof(StorageQuotaOptions.QuotaMegabytesPerUser)}"] = "0",
            [$"{QueueOptions.Section}:{nameof(QueueOptions.RunWorker)}"] = "false",
            [$"{QueueOptions.Section}:{nameof(QueueOptions.MaxQueuedPerUser)}"] = "20",
            [$"{GenerationOptions.Section}:{nameof(GenerationOptions.Device)}"] = nameof(T2IStudio.Generation.Onnx.DevicePreference.Cpu),
        });
        // Tests stay quiet, as they were before the app's registration came in.
        builder.Logging.ClearProviders();
        builder.AddStudioData();
        builder.AddStudioGeneration();
        builder.AddStudioWeb();

        var owned = Services.Select(d => d.ServiceType).Concat(BunitOwned).ToHashSet();
        foreach (var descriptor in builder.Services)
        {
            if (descriptor.ServiceType == typeof(IHostedService) || owned.Contains(descriptor.ServiceType))
            {
                continue;
            }
            Services.Add(descriptor);
        }
        return builder.Configuration;
    }

    /// <summary>
    /// Sets the queue's per-person limit and the storage quota (0: none) this test runs with. The generation
    /// side itself (model catalog on the CPU, lifecycle, events, image store, services) is always registered,
    /// as the app registers it, without the worker: jobs stay queued unless a test moves them. Call before the
    /// first render or service lookup.
    /// </summary>
    protected void AddGenerationServices(int maxQueuedPerUser = 20, int quotaMegabytesPerUser = 0)
    {
        _configuration[$"{QueueOptions.Section}:{nameof(QueueOptions.MaxQueuedPerUser)}"] = maxQueuedPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _configuration[$"{StorageQuotaOptions.Section}:{nameof(StorageQuotaOptions.QuotaMegabytesPerUser)}"] = quotaMegabytesPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Replaces bUnit's stand-in authorization service with the real one, so the app's resource handlers
    /// (registered by <c>AddStudioWeb</c>) decide resource checks in services as in the app. Call after
    /// <c>AddAuthorization()</c>.
    /// </summary>
    protected void UseRealResourceChecks()
    {
        Services.AddAuthorizationCore();
        Services.AddSingleton<IAuthorizationService, DefaultAuthorizationService>();
    }

    /// <summary>Registers the app's services and signs in a new person (<paramref name="email"/>) with the real resource checks.</summary>
    protected async Task<AppUser> SignInAsync(string email)
    {
        AddGenerationServices();
        var user = await AddUserAsync(email);
        var auth = AddAuthorization();
        auth.SetAuthorized(user.Email!);
        auth.SetClaims(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, user.Id));
        UseRealResourceChecks();
        return user;
    }

    /// <summary>The principal the app's services take for <paramref name="userId"/> (what a circuit's user carries).</summary>
    protected static System.Security.Claims.ClaimsPrincipal Principal(string userId) =>
        new(new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, userId)], "test"));

    /// <summary>Adds a user row and returns it.</summary>
    protected async Task<AppUser> AddUserAsync(string email, bool? prefersDarkMode = null)
    {
        await using var db = CreateDb();
        // Normalized as Identity stores them, so lookups by email (invitations) find the row.
        var user = new AppUser { UserName = email, Email = email, NormalizedEmail = email.ToUpperInvariant(), NormalizedUserName = email.ToUpperInvariant(), DisplayName = email.Split('@')[0], CreatedAt = DateTimeOffset.UtcNow, PrefersDarkMode = prefersDarkMode };
        db.Users.Add(user);
        await db.SaveChangesAsync();
        return user;
    }

    /// <summary>Reads a user row back.</summary>
    protected async Task<AppUser> ReadUserAsync(string id)
    {
        await using var db = CreateDb();
        return await db.Users.AsNoTracking().SingleAsync(u => u.Id == id);
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    // MudBlazor registers services that only dispose asynchronously; xunit calls this before Dispose.
    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        DeleteDatabase();
    }

    /// <summary>A context on the test database that does not touch the bUnit container (it freezes on first use).</summary>
    protected AppDbContext CreateDb() => new(_dbOptions);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            DeleteDatabase();
        }
    }

    private void DeleteDatabase()
    {
        if (!Directory.Exists(_root))
        {
            return;
        }
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // The OS temp cleaner takes what a closing connection still holds.
        }
    }

    private sealed class FixedAntiforgeryStateProvider : AntiforgeryStateProvider
    {
        public override AntiforgeryRequestToken? GetAntiforgeryToken() => new("test-token", "__RequestVerificationToken");
    }
}

using Bunit;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Preferences;

namespace T2IStudio.Web.Tests.Infrastructure;

/// <summary>
/// bUnit with MudBlazor (no transitions), loose JS interop, and a real, migrated SQLite database in a
/// temporary folder, so components read and write real rows.
/// </summary>
public abstract class StudioComponentTestBase : BunitContext, IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("t2i-bunit-").FullName;

    private readonly DbContextOptions<AppDbContext> _dbOptions;

    protected StudioComponentTestBase()
    {
        _dbOptions = new DbContextOptionsBuilder<AppDbContext>().UseSqlite(StudioDatabase.ConnectionString(_root)).Options;
        // CI runs test projects side by side on two cores: waits get room (they return as soon as they pass).
        DefaultWaitTimeout = TimeSpan.FromSeconds(15);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(options => options.SnackbarConfiguration.ShowTransitionDuration = 0);
        Services.AddDbContextFactory<AppDbContext>(options => options.UseSqlite(StudioDatabase.ConnectionString(_root)));
        Services.AddScoped<UserPreferences>();
        Services.AddSingleton<AntiforgeryStateProvider, FixedAntiforgeryStateProvider>();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<UserAccessGate>();
        // The app registers it in StudioWebExtensions; admin pages read it, and tests join workers through it.
        Services.AddLogging();
        Services.AddSingleton<T2IStudio.Web.Workers.WorkerRegistry>();
        using var db = CreateDb();
        db.Database.Migrate();
    }

    /// <summary>
    /// Registers the generation side as the app does (real model catalog on the CPU, dispatcher, events,
    /// image store, services), without the worker: jobs stay queued unless a test moves them.
    /// </summary>
    protected void AddGenerationServices(int maxQueuedPerUser = 20, int quotaMegabytesPerUser = 0)
    {
        var environment = new TestHostEnvironment(RepositoryRoot.Path);
        Services.AddLogging();
        Services.AddSingleton<Microsoft.Extensions.Hosting.IHostEnvironment>(environment);
        Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new T2IStudio.Generation.GenerationOptions { Device = T2IStudio.Generation.Onnx.DevicePreference.Cpu }));
        Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new StorageOptions { Root = _root }));
        Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new T2IStudio.Web.Jobs.QueueOptions { MaxQueuedPerUser = maxQueuedPerUser, RunWorker = false }));
        Services.AddSingleton<T2IStudio.Generation.Models.ModelHost>();
        Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new T2IStudio.Web.Workers.WorkersOptions()));
        Services.AddSingleton<T2IStudio.Web.Access.GalleryAccess>();
        Services.AddSingleton<T2IStudio.Web.Realtime.EventAudience>();
        Services.AddSingleton<T2IStudio.Web.Jobs.JobLifecycle>();
        Services.AddSingleton<T2IStudio.Web.Jobs.StandingsPublisher>();
        Services.AddSingleton<T2IStudio.Web.Realtime.StudioNotifier>();
        Services.AddSingleton<T2IStudio.Web.Storage.ImageStore>();
        Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new T2IStudio.Web.Storage.StorageQuotaOptions { QuotaMegabytesPerUser = quotaMegabytesPerUser }));
        Services.AddScoped<T2IStudio.Web.Storage.StorageQuota>();
        Services.AddScoped<T2IStudio.Web.Access.ResourceAccess>();
        Services.AddScoped<T2IStudio.Web.Jobs.GenerationService>();
        Services.AddScoped<T2IStudio.Web.Prompts.PromptHistory>();
        Services.AddScoped<T2IStudio.Web.Images.ImageLibrary>();
        Services.AddScoped<T2IStudio.Web.Galleries.GalleryService>();
        Services.AddScoped<T2IStudio.Web.Teams.TeamService>();
        Services.AddScoped<T2IStudio.Web.Comments.CommentService>();
    }

    /// <summary>
    /// Replaces bUnit's stand-in authorization service with the real one and the app's owner rule, so
    /// resource checks in services behave as in the app. Call after <c>AddAuthorization()</c>.
    /// </summary>
    protected void UseRealResourceChecks()
    {
        Services.AddAuthorizationCore();
        Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationHandler, T2IStudio.Web.Access.ResourceAccessHandler>();
        Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationHandler, T2IStudio.Web.Access.GalleryAuthorizationHandler>();
        Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationService, Microsoft.AspNetCore.Authorization.DefaultAuthorizationService>();
    }

    private sealed class TestHostEnvironment(string contentRoot) : Microsoft.Extensions.Hosting.IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Development";

        public string ApplicationName { get; set; } = "T2IStudio.Web";

        public string ContentRootPath { get; set; } = contentRoot;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }

    /// <summary>Adds a user row and returns it.</summary>
    protected async Task<AppUser> AddUserAsync(string email, bool? prefersDarkMode = null)
    {
        await using var db = CreateDb();
        var user = new AppUser { UserName = email, Email = email, DisplayName = email.Split('@')[0], CreatedAt = DateTimeOffset.UtcNow, PrefersDarkMode = prefersDarkMode };
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

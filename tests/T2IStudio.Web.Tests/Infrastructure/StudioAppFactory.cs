using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Tests.Infrastructure;

/// <summary>
/// The real app on a real SQLite file in a fresh temporary storage root, with the repository root as
/// content root (as in development). Each instance is its own database.
/// </summary>
public class StudioAppFactory : WebApplicationFactory<Program>
{
    private readonly bool _ownsStorage;
    private readonly IDictionary<string, string?> _settings;

    /// <summary>A fresh app; <paramref name="storageRoot"/> reuses another instance's files (a restart).</summary>
    public StudioAppFactory(string? storageRoot = null, IDictionary<string, string?>? settings = null)
    {
        _ownsStorage = storageRoot is null;
        StorageRoot = storageRoot ?? Directory.CreateTempSubdirectory("t2i-test-").FullName;
        _settings = settings ?? new Dictionary<string, string?>();
    }

    /// <summary>The storage root of this instance; deleted on dispose when this instance made it.</summary>
    public string StorageRoot { get; }

    /// <summary>Extra configuration applied over appsettings.json.</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>(_settings) { ["Storage:Root"] = StorageRoot };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSolutionRelativeContentRoot(".");
        builder.UseEnvironment("Development");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(Settings));
    }

    /// <summary>An HTTP client that keeps cookies and does not follow redirects, so tests see each 302.</summary>
    public HttpClient CreateBrowserlikeClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>Creates an account directly through Identity (faster than the form when the form is not under test).</summary>
    public async Task<AppUser> CreateUserAsync(string email, string password = TestAccounts.Password, string? displayName = null)
    {
        using var scope = Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = new AppUser { UserName = email, Email = email, DisplayName = displayName ?? email.Split('@')[0], CreatedAt = DateTimeOffset.UtcNow };
        var result = await users.CreateAsync(user, password);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));
        return user;
    }

    /// <summary>Submits <paramref name="request"/> as <paramref name="user"/> and waits for its images (the worker must run).</summary>
    public async Task<(Guid JobId, IReadOnlyList<Guid> ImageIds)> GenerateAsync(AppUser user, T2IStudio.Web.Jobs.JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(user);
        using var waiter = new JobWaiter(Services, user.Id);
        using var scope = Services.CreateScope();
        var submitted = await scope.ServiceProvider.GetRequiredService<T2IStudio.Web.Jobs.GenerationService>().SubmitAsync(PrincipalOf(user), request);
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
        var completed = await waiter.WaitForAsync<T2IStudio.Web.Realtime.JobCompleted>(submitted.JobId!.Value);
        return (completed.JobId, completed.ImageIds);
    }

    /// <summary>Puts <paramref name="user"/> in the Admin role (creating the role when no one registered through the form yet).</summary>
    public async Task MakeAdminAsync(AppUser user)
    {
        using var scope = Services.CreateScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(T2IStudio.Data.AppDbContext.AdminRole))
        {
            Assert.True((await roles.CreateAsync(new IdentityRole(T2IStudio.Data.AppDbContext.AdminRole))).Succeeded);
        }
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.True((await users.AddToRoleAsync(await users.FindByIdAsync(user.Id) ?? user, T2IStudio.Data.AppDbContext.AdminRole)).Succeeded);
    }

    /// <summary>Makes an API token for <paramref name="user"/> through the token service; returns the secret.</summary>
    public async Task<string> CreateTokenAsync(AppUser user, ApiTokenScope scope = ApiTokenScope.ReadAndGenerate, DateTimeOffset? expiresAt = null, string name = "test token")
    {
        ArgumentNullException.ThrowIfNull(user);
        using var scope_ = Services.CreateScope();
        var created = await scope_.ServiceProvider.GetRequiredService<T2IStudio.Web.Api.ApiTokenService>().CreateAsync(PrincipalOf(user), name, scope, expiresAt);
        Assert.True(created.Succeeded, created.Error);
        return created.Created!.Secret;
    }

    /// <summary>An HTTP client that sends <paramref name="token"/> as its bearer, keeps no cookies and follows no redirects.</summary>
    public HttpClient CreateApiClient(string? token)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    /// <summary>A principal for <paramref name="user"/>, as a circuit sees it.</summary>
    public static System.Security.Claims.ClaimsPrincipal PrincipalOf(AppUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new(new System.Security.Claims.ClaimsIdentity([new(System.Security.Claims.ClaimTypes.NameIdentifier, user.Id)], "test"));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsStorage)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(StorageRoot, recursive: true);
            }
            catch (IOException)
            {
                // A file still held by a closing connection: the OS temp cleaner takes it.
            }
        }
    }
}

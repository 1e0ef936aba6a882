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
    /// <summary>The storage root of this instance; deleted on dispose.</summary>
    public string StorageRoot { get; } = Directory.CreateTempSubdirectory("t2i-test-").FullName;

    /// <summary>Extra configuration applied over appsettings.json.</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Storage:Root"] = StorageRoot };

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

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
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

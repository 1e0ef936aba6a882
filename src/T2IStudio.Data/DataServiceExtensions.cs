using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace T2IStudio.Data;

/// <summary>Registers T2I Studio's persistence.</summary>
public static class DataServiceExtensions
{
    /// <summary>
    /// Binds <see cref="StorageOptions"/> (validated at start), creates the storage folder and registers
    /// an <see cref="IDbContextFactory{AppDbContext}"/> on SQLite with WAL, a busy timeout and <c>synchronous=FULL</c>;
    /// migrations are applied as the host starts.
    /// </summary>
    public static IHostApplicationBuilder AddStudioData(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddDbContextFactory<AppDbContext>((services, options) =>
        {
            var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
            var root = ResolveRoot(storage.Root, builder.Environment.ContentRootPath);
            Directory.CreateDirectory(root);
            options.UseSqlite(StudioDatabase.ConnectionString(root))
                .AddInterceptors(new SqlitePragmaInterceptor(storage.BusyTimeoutMs));
        });
        // First hosted service: the schema is current before workers start and before requests arrive.
        builder.Services.AddHostedService<DatabaseInitializer>();
        return builder;
    }

    /// <summary>Resolves a configured storage path against the content root.</summary>
    public static string ResolveRoot(string configured, string contentRoot) =>
        Path.GetFullPath(Path.IsPathRooted(configured) ? configured : Path.Combine(contentRoot, configured));
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace T2IStudio.Data;

/// <summary>Registers T2I Studio's persistence.</summary>
public static class DataServiceExtensions
{
    /// <summary>The assembly holding the PostgreSQL migrations (the SQLite ones are in this assembly).</summary>
    public const string PostgresMigrationsAssembly = "T2IStudio.Data.Postgres";

    /// <summary>
    /// Binds <see cref="StorageOptions"/> and <see cref="DatabaseOptions"/> (validated at start), creates the storage
    /// folder and registers an <see cref="IDbContextFactory{AppDbContext}"/>: on SQLite (the default) with WAL, a busy
    /// timeout and <c>synchronous=FULL</c>; on PostgreSQL (<c>Database:Provider=postgres</c>) with
    /// <c>ConnectionStrings:Postgres</c> and the migrations of <see cref="PostgresMigrationsAssembly"/>. Migrations are
    /// applied as the host starts.
    /// </summary>
    public static IHostApplicationBuilder AddStudioData(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.Section)
            .PostConfigure<IConfiguration>((options, configuration) =>
                options.PostgresConnectionString ??= configuration.GetConnectionString(DatabaseOptions.PostgresConnectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddDbContextFactory<AppDbContext>((services, options) =>
        {
            var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
            var database = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            var root = ResolveRoot(storage.Root, builder.Environment.ContentRootPath);
            Directory.CreateDirectory(root); // images live here whatever the engine
            if (database.Engine == DatabaseProvider.Postgres)
            {
                UsePostgres(options, database.PostgresConnectionString!);
            }
            else
            {
                UseSqlite(options, root, storage.BusyTimeoutMs);
            }
        });
        // First hosted service: the schema is current before workers start and before requests arrive.
        builder.Services.AddHostedService<DatabaseInitializer>();
        return builder;
    }

    /// <summary>SQLite on <c>ROOT/t2istudio.db</c> with the per-connection pragmas.</summary>
    public static DbContextOptionsBuilder UseSqlite(DbContextOptionsBuilder options, string storageRoot, int busyTimeoutMs = 5_000)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseSqlite(StudioDatabase.ConnectionString(storageRoot))
            .AddInterceptors(new SqlitePragmaInterceptor(busyTimeoutMs));
    }

    /// <summary>PostgreSQL at <paramref name="connectionString"/>, with its own migrations.</summary>
    public static DbContextOptionsBuilder UsePostgres(DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(PostgresMigrationsAssembly));
    }

    /// <summary>Resolves a configured storage path against the content root.</summary>
    public static string ResolveRoot(string configured, string contentRoot) =>
        Path.GetFullPath(Path.IsPathRooted(configured) ? configured : Path.Combine(contentRoot, configured));
}

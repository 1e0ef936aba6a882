using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace T2IStudio.Data;

/// <summary>Start-up work on the database: WAL mode and migrations.</summary>
public static partial class StudioDatabase
{
    /// <summary>Builds the SQLite connection string for the database under <paramref name="storageRoot"/>.</summary>
    public static string ConnectionString(string storageRoot) => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(storageRoot, StorageOptions.DatabaseFileName),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
    }.ToString();

    /// <summary>Switches the file to WAL and applies pending migrations. Call once before the app serves requests.</summary>
    public static Task InitializeDatabaseAsync(this IHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        return InitializeAsync(host.Services, cancellationToken);
    }

    internal static async Task InitializeAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var factory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StudioDatabase).FullName!);
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                LogApplyingMigrations(logger, pending.Count, string.Join(", ", pending));
            }
            await db.Database.MigrateAsync(cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Count} database migration(s): {Migrations}")]
    private static partial void LogApplyingMigrations(ILogger logger, int count, string migrations);
}

/// <summary>
/// Prepares the database as the host starts, before any other hosted service (workers read the queue
/// from it) and before the server takes requests.
/// </summary>
internal sealed class DatabaseInitializer(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        StudioDatabase.InitializeAsync(services, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

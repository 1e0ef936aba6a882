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

    /// <summary>Switches a SQLite file to WAL and applies pending migrations (either provider). Call once before the app serves requests.</summary>
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
        if (!db.Database.IsSqlite())
        {
            // PostgreSQL: EF Core's migration lock there is a session-level advisory lock, which dies with its
            // connection, so nodes starting together migrate one at a time and a killed one leaves nothing behind.
            var waiting = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (waiting.Count > 0)
            {
                LogApplyingMigrations(logger, waiting.Count, string.Join(", ", waiting));
            }
            await db.Database.MigrateAsync(cancellationToken);
            return;
        }
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                LogApplyingMigrations(logger, pending.Count, string.Join(", ", pending));
            }
            // EF Core's SQLite migration lock is a row in __EFMigrationsLock that names no owner: a process killed while it
            // held it (kill -9 during start-up, a power cut) leaves the row, and every later start waits on it for ever.
            // An OS lock on a file beside the database dies with its process; whoever holds it knows a lock row left
            // behind belongs to a dead process, and clears it before migrating.
            await using (await HoldMigrationFileLockAsync(db.Database.GetDbConnection().DataSource, cancellationToken))
            {
                if (await ClearDeadMigrationLockAsync(db, cancellationToken) > 0)
                {
                    LogDeadMigrationLock(logger);
                }
                await db.Database.MigrateAsync(cancellationToken);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Waits for, then holds, the exclusive OS lock on <c>DATABASE.migration-lock</c> (none for an in-memory database).</summary>
    private static async Task<IAsyncDisposable> HoldMigrationFileLockAsync(string? databaseFile, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(databaseFile) || databaseFile == ":memory:")
        {
            return new MemoryStream();
        }
        while (true)
        {
            try
            {
                return new FileStream(databaseFile + ".migration-lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                // Another live process migrates this database now: its lock goes when it finishes or dies.
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
    }

    private static async Task<int> ClearDeadMigrationLockAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        var tables = await db.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsLock'")
            .SingleAsync(cancellationToken);
        return tables == 0 ? 0 : await db.Database.ExecuteSqlRawAsync("DELETE FROM \"__EFMigrationsLock\"", cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A migration lock left by a process that died while it migrated was cleared")]
    private static partial void LogDeadMigrationLock(ILogger logger);

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

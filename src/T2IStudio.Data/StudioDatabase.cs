using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace T2IStudio.Data;

/// <summary>Start-up work on the database: WAL mode and migrations.</summary>
public static class StudioDatabase
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
    public static async Task InitializeDatabaseAsync(this IHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var factory = host.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StudioDatabase).FullName!);
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                logger.LogInformation("Applying {Count} database migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
            }
            await db.Database.MigrateAsync(cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}

using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data;

/// <summary>How many rows one table held in the source and holds in the target after a copy.</summary>
/// <param name="Table">The table's name.</param>
/// <param name="Source">Rows read from the SQLite database.</param>
/// <param name="Target">Rows in the PostgreSQL database after the copy.</param>
public sealed record TableCopy(string Table, int Source, int Target);

/// <summary>What a copy did.</summary>
/// <param name="Tables">Every table, in the order they were copied.</param>
/// <param name="MissingFiles">Image, source and mask files the rows name that are not under the storage root (empty when it was not checked).</param>
/// <param name="FilesChecked">How many file keys were looked for (0 when no storage root was given).</param>
public sealed record DatabaseCopyResult(IReadOnlyList<TableCopy> Tables, IReadOnlyList<string> MissingFiles, int FilesChecked);

/// <summary>
/// Copies a SQLite database of T2I Studio into an empty PostgreSQL database: every table, ids and values as they
/// are, in foreign-key order, in one transaction; the target is migrated first and must hold no rows.
/// </summary>
public static class StudioDatabaseCopy
{
    private const int Batch = 500;

    /// <summary>Copies <paramref name="sqlitePath"/> into <paramref name="postgresConnectionString"/>; see <see cref="StudioDatabaseCopy"/>.</summary>
    /// <param name="sqlitePath">The SQLite file (<c>Storage:Root/t2istudio.db</c>).</param>
    /// <param name="postgresConnectionString">The target database, which must exist (it may be empty of tables).</param>
    /// <param name="storageRoot">When given, every file key the rows name is looked for under this root.</param>
    /// <param name="cancellationToken">Stops the copy (nothing is committed).</param>
    /// <exception cref="DatabaseCopyException">The copy was refused or failed; the message says why in a sentence.</exception>
    public static async Task<DatabaseCopyResult> CopyAsync(string sqlitePath, string postgresConnectionString, string? storageRoot = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sqlitePath);
        ArgumentException.ThrowIfNullOrWhiteSpace(postgresConnectionString);
        var path = Path.GetFullPath(sqlitePath);
        if (!File.Exists(path))
        {
            throw new DatabaseCopyException($"There is no SQLite database at {path}.");
        }
        if (storageRoot is not null && !Directory.Exists(storageRoot))
        {
            throw new DatabaseCopyException($"The storage root {Path.GetFullPath(storageRoot)} does not exist.");
        }

        await using var source = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>()
            .UseSqlite(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString())
            .Options);
        if ((await source.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
        {
            throw new DatabaseCopyException($"The SQLite database at {path} is from an older version of T2I Studio: start this version on it once (it updates the database as it starts), then copy it.");
        }

        var targetOptions = new DbContextOptionsBuilder<AppDbContext>();
        DataServiceExtensions.UsePostgres(targetOptions, postgresConnectionString);
        await using var target = new AppDbContext(targetOptions.Options);
        target.ChangeTracker.AutoDetectChangesEnabled = false;
        await target.Database.MigrateAsync(cancellationToken);

        var tables = Tables();
        foreach (var table in tables)
        {
            if (await table.CountAsync(target, cancellationToken) is > 0 and var rows)
            {
                throw new DatabaseCopyException($"The PostgreSQL database already has rows ({table.Name}: {rows}); copy-database only fills an empty database.");
            }
        }

        var copied = new List<TableCopy>();
        await using (var transaction = await target.Database.BeginTransactionAsync(cancellationToken))
        {
            foreach (var table in tables)
            {
                await table.CopyAsync(source, target, cancellationToken);
            }
            // Claims and data-protection keys number themselves: the next id follows the copied ones.
            await target.Database.ExecuteSqlRawAsync(ResetSequences, cancellationToken);
            foreach (var table in tables)
            {
                copied.Add(new TableCopy(table.Name, await table.CountAsync(source, cancellationToken), await table.CountAsync(target, cancellationToken)));
            }
            if (copied.FirstOrDefault(t => t.Source != t.Target) is { } short_)
            {
                throw new DatabaseCopyException($"{short_.Table} has {short_.Target} rows in PostgreSQL but {short_.Source} in SQLite; nothing was committed.");
            }
            await transaction.CommitAsync(cancellationToken);
        }

        var missing = new List<string>();
        var checkedFiles = 0;
        if (storageRoot is not null)
        {
            var keys = (await source.Images.AsNoTracking().Select(i => new { i.FileKey, i.MaskFileKey }).ToListAsync(cancellationToken))
                .SelectMany(i => new[] { (Guid?)i.FileKey, i.MaskFileKey })
                .Concat((await source.Jobs.AsNoTracking().Select(j => new { j.SourceFileKey, j.MaskFileKey }).ToListAsync(cancellationToken))
                    .SelectMany(j => new[] { j.SourceFileKey, j.MaskFileKey }))
                .OfType<Guid>()
                .Distinct()
                .ToList();
            checkedFiles = keys.Count;
            missing.AddRange(keys.Select(key => ImageFilePath(storageRoot, key)).Where(file => !File.Exists(file)).Order(StringComparer.Ordinal));
        }
        return new DatabaseCopyResult(copied, missing, checkedFiles);
    }

    /// <summary>Where the image store keeps the file of <paramref name="key"/> under <paramref name="storageRoot"/> (as <c>ImageStore.PathOf</c>).</summary>
    public static string ImageFilePath(string storageRoot, Guid key)
    {
        var name = key.ToString("N");
        return Path.Combine(Path.GetFullPath(storageRoot), "images", name[..2], name + ".png");
    }

    private const string ResetSequences = """
        SELECT setval(pg_get_serial_sequence('"AspNetUserClaims"', 'Id'), GREATEST(COALESCE(MAX("Id"), 0), 1), COALESCE(MAX("Id"), 0) > 0) FROM "AspNetUserClaims";
        SELECT setval(pg_get_serial_sequence('"AspNetRoleClaims"', 'Id'), GREATEST(COALESCE(MAX("Id"), 0), 1), COALESCE(MAX("Id"), 0) > 0) FROM "AspNetRoleClaims";
        SELECT setval(pg_get_serial_sequence('"DataProtectionKeys"', 'Id'), GREATEST(COALESCE(MAX("Id"), 0), 1), COALESCE(MAX("Id"), 0) > 0) FROM "DataProtectionKeys";
        """;

    /// <summary>Every table, parents before the tables that refer to them.</summary>
    private static List<Table> Tables() =>
    [
        new Table<IdentityRole>("AspNetRoles"),
        new Table<AppUser>("AspNetUsers"),
        new Table<IdentityRoleClaim<string>>("AspNetRoleClaims"),
        new Table<IdentityUserClaim<string>>("AspNetUserClaims"),
        new Table<IdentityUserLogin<string>>("AspNetUserLogins"),
        new Table<IdentityUserRole<string>>("AspNetUserRoles"),
        new Table<IdentityUserToken<string>>("AspNetUserTokens"),
        new Table<DataProtectionKey>("DataProtectionKeys"),
        new Table<Team>("Teams"),
        new Table<TeamMember>("TeamMembers"),
        new Table<TeamInvitation>("TeamInvitations"),
        new Table<InviteLink>("InviteLinks"),
        new Table<WorkerKey>("WorkerKeys"),
        new Table<ApiToken>("ApiTokens"),
        new Table<SavedPrompt>("Prompts"),
        new Table<Gallery>("Galleries"),
        new Table<Job>("Jobs"),
        new Table<GeneratedImage>("Images"),
        new Table<GalleryItem>("GalleryItems"),
        new Table<Favorite>("Favorites"),
        new Table<Comment>("Comments"),
    ];

    private abstract class Table(string name)
    {
        public string Name { get; } = name;

        public abstract Task<int> CountAsync(AppDbContext db, CancellationToken cancellationToken);

        public abstract Task CopyAsync(AppDbContext source, AppDbContext target, CancellationToken cancellationToken);
    }

    private sealed class Table<T>(string name) : Table(name)
        where T : class
    {
        public override Task<int> CountAsync(AppDbContext db, CancellationToken cancellationToken) => db.Set<T>().CountAsync(cancellationToken);

        public override async Task CopyAsync(AppDbContext source, AppDbContext target, CancellationToken cancellationToken)
        {
            var batch = new List<T>(Batch);
            await foreach (var row in source.Set<T>().AsNoTracking().AsAsyncEnumerable().WithCancellation(cancellationToken))
            {
                batch.Add(row);
                if (batch.Count == Batch)
                {
                    await SaveAsync(target, batch, cancellationToken);
                }
            }
            await SaveAsync(target, batch, cancellationToken);
        }

        private static async Task SaveAsync(AppDbContext target, List<T> batch, CancellationToken cancellationToken)
        {
            if (batch.Count == 0)
            {
                return;
            }
            target.Set<T>().AddRange(batch);
            await target.SaveChangesAsync(cancellationToken);
            target.ChangeTracker.Clear();
            batch.Clear();
        }
    }
}

/// <summary>A copy that was refused or failed; the message is one sentence for the person running it.</summary>
public sealed class DatabaseCopyException(string message, Exception? innerException = null) : Exception(message, innerException);

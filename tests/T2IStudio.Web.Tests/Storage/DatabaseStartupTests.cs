using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using T2IStudio.Data;

namespace T2IStudio.Web.Tests.Storage;

public sealed class DatabaseStartupTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("t2i-startup-").FullName;

    [Fact]
    public async Task A_start_after_a_process_died_holding_the_migration_lock_clears_it_instead_of_waiting_for_ever()
    {
        using (var first = Build())
        {
            await first.InitializeDatabaseAsync();
            // What a kill -9 during MigrateAsync leaves: EF Core's lock row, with no process behind it.
            await using var db = await first.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            await db.Database.ExecuteSqlRawAsync("INSERT INTO \"__EFMigrationsLock\" (\"Id\", \"Timestamp\") VALUES (1, '2026-12-02 03:16:52+00:00')");
        }

        using var next = Build();
        // Before the fix this waited for ever; the bound only turns a hang into a failure.
        await next.InitializeDatabaseAsync().WaitAsync(TimeSpan.FromMinutes(2));

        await using var check = await next.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await check.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM \"__EFMigrationsLock\"").SingleAsync());
        Assert.Empty(await check.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task A_live_process_migrating_holds_off_another_until_it_is_done()
    {
        using var host = Build();
        var lockFile = Path.Combine(_root, StorageOptions.DatabaseFileName) + ".migration-lock";
        Task starting;
        using (new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            starting = host.InitializeDatabaseAsync();
            await Task.Yield();
            Assert.False(starting.IsCompleted); // it waits while someone alive holds the lock
        }

        await starting.WaitAsync(TimeSpan.FromMinutes(2));
        await using var check = await host.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Empty(await check.Database.GetPendingMigrationsAsync());
    }

    private IHost Build()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _root, EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [$"{StorageOptions.Section}:{nameof(StorageOptions.Root)}"] = _root });
        builder.AddStudioData();
        return builder.Build();
    }

    public void Dispose()
    {
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
}

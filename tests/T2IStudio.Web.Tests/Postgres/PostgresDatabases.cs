using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Postgres;

/// <summary>
/// For a SQLite test class run on PostgreSQL: each new app gets a fresh database, and an app given an earlier
/// app's storage root (a restart, a second node) gets that app's database too. Disposing drops them all.
/// </summary>
public sealed class PostgresDatabases : IAsyncLifetime
{
    private readonly Dictionary<string, TestServices.TestDatabase> _byRoot = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The app, as <c>new StudioAppFactory(storageRoot, settings)</c> would make it on SQLite.</summary>
    public StudioAppFactory App(string? storageRoot, IDictionary<string, string?>? settings)
    {
        lock (_lock)
        {
            if (storageRoot is not null && _byRoot.TryGetValue(storageRoot, out var known))
            {
                return PostgresAppFactory.OnDatabase(known.ConnectionString, settings, storageRoot);
            }
            var database = PostgresAppFactory.CreateDatabase();
            var app = PostgresAppFactory.OnDatabase(database.ConnectionString, settings, storageRoot);
            _byRoot[app.StorageRoot] = database;
            return app;
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var database in _byRoot.Values)
        {
            await database.DisposeAsync();
        }
    }
}

/// <summary><see cref="StudioAppFixture"/> on a PostgreSQL database of its own.</summary>
public sealed class PostgresAppFixture() : StudioAppFixture(PostgresAppFactory.Create());

using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Postgres;

/// <summary>
/// The real app on a fresh PostgreSQL database of its own (<see cref="TestServices"/>), its images in a fresh
/// storage root. Create with <see cref="StartAsync"/>; disposing drops the database.
/// </summary>
public sealed class PostgresAppFactory : StudioAppFactory
{
    private readonly TestServices.TestDatabase _database;
    private readonly bool _ownsDatabase;

    private PostgresAppFactory(TestServices.TestDatabase database, IDictionary<string, string?>? settings, string? storageRoot, bool ownsDatabase = true)
        : base(storageRoot, With(database, settings))
    {
        _database = database;
        _ownsDatabase = ownsDatabase;
    }

    /// <summary>The database's connection string.</summary>
    public string ConnectionString => _database.ConnectionString;

    /// <summary>A fresh database, and the app configured on it (not started until first used).</summary>
    public static async Task<PostgresAppFactory> StartAsync(IDictionary<string, string?>? settings = null, string? storageRoot = null) =>
        new(await TestServices.CreatePostgresDatabaseAsync(), settings, storageRoot);

    /// <summary>A second web node on this one's database (dispose it before this one, which drops the database).</summary>
    public PostgresAppFactory AnotherNode(IDictionary<string, string?>? settings = null, string? storageRoot = null) =>
        new(_database, settings, storageRoot, ownsDatabase: false);

    private static Dictionary<string, string?> With(TestServices.TestDatabase database, IDictionary<string, string?>? settings) =>
        new(settings ?? new Dictionary<string, string?>())
        {
            ["Database:Provider"] = "postgres",
            ["ConnectionStrings:Postgres"] = database.ConnectionString,
        };

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownsDatabase)
        {
            await _database.DisposeAsync();
        }
    }
}

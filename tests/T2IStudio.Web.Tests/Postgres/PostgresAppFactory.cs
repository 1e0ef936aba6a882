using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Postgres;

/// <summary>
/// The real app on PostgreSQL, its images in a fresh storage root (or <c>storageRoot</c>). <see cref="StartAsync"/>
/// makes a fresh database that disposing drops; <see cref="OnDatabase"/> runs on an existing database that it
/// leaves alone (two of them on one database and one storage root are two nodes).
/// </summary>
public sealed class PostgresAppFactory : StudioAppFactory
{
    private readonly TestServices.TestDatabase? _owned;

    private PostgresAppFactory(string connectionString, TestServices.TestDatabase? owned, IDictionary<string, string?>? settings, string? storageRoot)
        : base(storageRoot, With(connectionString, settings))
    {
        ConnectionString = connectionString;
        _owned = owned;
    }

    /// <summary>The database's connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>A fresh database, and the app configured on it (not started until first used); disposing drops the database.</summary>
    public static async Task<PostgresAppFactory> StartAsync(IDictionary<string, string?>? settings = null, string? storageRoot = null)
    {
        var database = await TestServices.CreatePostgresDatabaseAsync();
        return new(database.ConnectionString, database, settings, storageRoot);
    }

    /// <summary>
    /// <see cref="StartAsync"/> for a constructor (a class fixture): the database is created with Npgsql's
    /// synchronous calls, so nothing waits on a task.
    /// </summary>
    public static PostgresAppFactory Create(IDictionary<string, string?>? settings = null, string? storageRoot = null)
    {
        var database = CreateDatabase();
        return new(database.ConnectionString, database, settings, storageRoot);
    }

    /// <summary>An empty database, dropped when the result is disposed.</summary>
    internal static TestServices.TestDatabase CreateDatabase()
    {
        var name = "t2i_" + Guid.NewGuid().ToString("N")[..16];
        using (var admin = new Npgsql.NpgsqlConnection(TestServices.PostgresAdmin))
        {
            admin.Open();
            using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            create.ExecuteNonQuery();
        }
        return new(name, new Npgsql.NpgsqlConnectionStringBuilder(TestServices.PostgresAdmin) { Database = name }.ConnectionString);
    }

    /// <summary>The app on the database at <paramref name="connectionString"/>, which it neither creates nor drops.</summary>
    public static PostgresAppFactory OnDatabase(string connectionString, IDictionary<string, string?>? settings = null, string? storageRoot = null) =>
        new(connectionString, null, settings, storageRoot);

    /// <summary>A second web node on this one's database (dispose it before this one, which may drop the database).</summary>
    public PostgresAppFactory AnotherNode(IDictionary<string, string?>? settings = null, string? storageRoot = null) =>
        OnDatabase(ConnectionString, settings, storageRoot);

    private static Dictionary<string, string?> With(string connectionString, IDictionary<string, string?>? settings) =>
        new(settings ?? new Dictionary<string, string?>())
        {
            ["Database:Provider"] = "postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
        };

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_owned is not null)
        {
            await _owned.DisposeAsync();
        }
    }
}

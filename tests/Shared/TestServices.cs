using Npgsql;

namespace T2IStudio.Testing;

/// <summary>
/// The PostgreSQL and Redis servers the tests use: started on loopback by <c>tools/test-services/services.sh</c>
/// (which <c>./test.sh</c> runs) and named by <c>T2I_TEST_POSTGRES</c> and <c>T2I_TEST_REDIS</c>. Each test takes a
/// fresh database and a fresh Redis prefix, so tests running side by side never see each other's rows or messages.
/// </summary>
internal static class TestServices
{
    private const string Hint = "Start the test servers first: ./test.sh does, or run  eval \"$(tools/test-services/services.sh start)\"  in this shell.";

    /// <summary>The administrative connection string (database <c>postgres</c>).</summary>
    public static string PostgresAdmin =>
        Environment.GetEnvironmentVariable("T2I_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("T2I_TEST_POSTGRES is not set. " + Hint);

    /// <summary>The Redis address (StackExchange.Redis syntax).</summary>
    public static string Redis =>
        Environment.GetEnvironmentVariable("T2I_TEST_REDIS") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("T2I_TEST_REDIS is not set. " + Hint);

    /// <summary>A Redis key and channel prefix no other test uses.</summary>
    public static string NewRedisPrefix() => "t2itest-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Creates an empty database; disposing the result drops it (closing its connections).</summary>
    public static async Task<TestDatabase> CreatePostgresDatabaseAsync()
    {
        var name = "t2i_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = new NpgsqlConnection(PostgresAdmin))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresAdmin) { Database = name }.ConnectionString;
        return new TestDatabase(name, connectionString);
    }

    /// <summary>A database of its own for one test (or one test class).</summary>
    internal sealed class TestDatabase(string name, string connectionString) : IAsyncDisposable
    {
        /// <summary>Its name.</summary>
        public string Name { get; } = name;

        /// <summary>A connection string to it.</summary>
        public string ConnectionString { get; } = connectionString;

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(PostgresAdmin);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }
}

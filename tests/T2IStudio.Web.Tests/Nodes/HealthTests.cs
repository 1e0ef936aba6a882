using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using T2IStudio.Generation.Workers;
using T2IStudio.Testing;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Postgres;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Nodes;

/// <summary><c>/health</c>: the database, Redis, the connected workers and this node's name.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task A_single_node_reports_its_name_sqlite_no_redis_and_its_workers()
    {
        await using var app = new StudioAppFactory(settings: new Dictionary<string, string?> { ["Cluster:NodeName"] = "solo", ["Queue:RunWorker"] = "false" });
        app.Services.GetRequiredService<WorkerRegistry>().Join(new WorkerHello(Guid.NewGuid(), "box", "cpu", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);

        var (status, health) = await GetAsync(app);

        Assert.Equal(HttpStatusCode.OK, status);
        var root = health;
        Assert.Equal("Healthy", root.GetProperty("status").GetString());
        Assert.Equal("solo", root.GetProperty("node").GetString());
        Assert.Equal("sqlite", root.GetProperty("database").GetProperty("provider").GetString());
        Assert.Equal("Healthy", root.GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("NotConfigured", root.GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal(1, root.GetProperty("workers").GetProperty("connected").GetInt32());
        var node = Assert.Single(root.GetProperty("workers").GetProperty("nodes").EnumerateArray());
        Assert.Equal(("solo", 1), (node.GetProperty("node").GetString(), node.GetProperty("connected").GetInt32()));
    }

    [Fact]
    public async Task A_node_that_lost_redis_is_degraded_but_answers_200_and_says_why()
    {
        await using var app = new StudioAppFactory(settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = "127.0.0.1:1,connectTimeout=200",
            ["Cluster:RedisPrefix"] = TestServices.NewRedisPrefix(),
            ["Queue:RunWorker"] = "false",
        });

        var (status, health) = await GetAsync(app);

        Assert.Equal(HttpStatusCode.OK, status);
        var root = health;
        Assert.Equal("Degraded", root.GetProperty("status").GetString());
        Assert.Equal("Healthy", root.GetProperty("database").GetProperty("status").GetString());
        var redis = root.GetProperty("redis");
        Assert.Equal("Lost", redis.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, redis.GetProperty("since").ValueKind);
        Assert.Contains("127.0.0.1:1", redis.GetProperty("problem").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_whose_postgresql_database_is_gone_answers_503()
    {
        await using var app = await PostgresAppFactory.StartAsync(new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" });
        var (before, healthy) = await GetAsync(app);
        Assert.Equal(HttpStatusCode.OK, before);
        Assert.Equal("postgres", healthy.GetProperty("database").GetProperty("provider").GetString());

        await using (var admin = new NpgsqlConnection(TestServices.PostgresAdmin))
        {
            await admin.OpenAsync();
            var name = new NpgsqlConnectionStringBuilder(app.ConnectionString).Database;
            await using var drop = new NpgsqlCommand($"DROP DATABASE \"{name}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
        NpgsqlConnection.ClearAllPools();

        var (after, unhealthy) = await GetAsync(app);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, after);
        Assert.Equal("Unhealthy", unhealthy.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", unhealthy.GetProperty("database").GetProperty("status").GetString());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Health)> GetAsync(StudioAppFactory app)
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(new Uri("/health", UriKind.Relative));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }
}

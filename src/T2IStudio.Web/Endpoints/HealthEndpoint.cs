using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Endpoints;

/// <summary>Checks that the database answers a query.</summary>
internal sealed class DatabaseHealthCheck(IDbContextFactory<AppDbContext> dbFactory, IOptions<DatabaseOptions> database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var engine = database.Value.Engine == DatabaseProvider.Postgres ? "PostgreSQL" : "SQLite";
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Count();
            _ = await db.Users.CountAsync(cancellationToken);
            return pending == 0
                ? HealthCheckResult.Healthy($"{engine} answers; schema is current.")
                : HealthCheckResult.Degraded($"{pending} migration(s) pending.");
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or DbException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"{engine} does not answer.", ex);
        }
    }
}

/// <summary>
/// Redis, when configured: a node that lost it keeps serving its own circuits, so that is <c>Degraded</c> (still
/// 200), not down.
/// </summary>
internal sealed class RedisHealthCheck(IClusterBus cluster) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = cluster.Status;
        return Task.FromResult(status.State switch
        {
            ClusterLinkState.Alone => HealthCheckResult.Healthy("Not configured: a single node."),
            ClusterLinkState.Connected => HealthCheckResult.Healthy("Connected."),
            _ => HealthCheckResult.Degraded($"Lost: {status.Problem}"),
        });
    }
}

/// <summary>
/// <c>GET /health</c>: anonymous, JSON, 200 while the database answers (<c>Degraded</c> when Redis is lost) and 503
/// when it does not. Besides <c>status</c> and <c>checks</c> it reports <c>database</c> (provider, status),
/// <c>redis</c> (NotConfigured | Connected | Lost, since, problem), <c>workers</c> (connected across all nodes, and
/// per node) and <c>node</c> (this node's name).
/// </summary>
public static class HealthEndpoint
{
    /// <summary>The name of the database check.</summary>
    public const string DatabaseCheck = "database";

    /// <summary>The name of the Redis check.</summary>
    public const string RedisCheck = "redis";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Registers the checks <c>/health</c> runs.</summary>
    public static IHealthChecksBuilder AddStudioHealthChecks(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>(DatabaseCheck)
            .AddCheck<RedisHealthCheck>(RedisCheck);

    /// <summary>Maps the health endpoint.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteAsync }).AllowAnonymous();
        return endpoints;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var services = context.RequestServices;
        var cluster = services.GetRequiredService<IClusterBus>();
        var directory = services.GetRequiredService<WorkerDirectory>();
        var provider = services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Engine == DatabaseProvider.Postgres ? "postgres" : "sqlite";
        var link = cluster.Status;
        var workers = directory.All;
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            node = cluster.Node.Name,
            database = new
            {
                provider,
                status = report.Entries.TryGetValue(DatabaseCheck, out var database) ? database.Status.ToString() : HealthStatus.Unhealthy.ToString(),
            },
            redis = new
            {
                status = link.State switch
                {
                    ClusterLinkState.Alone => "NotConfigured",
                    ClusterLinkState.Connected => "Connected",
                    _ => "Lost",
                },
                since = link.Since,
                problem = link.Problem,
            },
            workers = new
            {
                connected = workers.Count,
                nodes = directory.Nodes.Select(n => new { node = n.Name, connected = workers.Count(w => w.NodeId == n.Id) }),
            },
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, Json));
    }
}

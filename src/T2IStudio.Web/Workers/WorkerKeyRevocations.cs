using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Workers;

/// <summary>The message on <see cref="ClusterChannels.WorkerKeys"/>: a worker key was revoked on another node.</summary>
/// <param name="KeyId">The key's id (32 hex digits), as <see cref="WorkerSession.KeyId"/> names it.</param>
public sealed record WorkerKeyRevoked(string KeyId);

/// <summary>
/// Disconnects the workers connected to this node with a key another node revoked (the revoking node disconnects
/// its own); the key store already refuses the key to any new connection.
/// </summary>
public sealed partial class WorkerKeyRevocations(
    IClusterBus cluster,
    WorkerConnections connections,
    WorkerRegistry registry,
    IDbContextFactory<AppDbContext> dbFactory,
    TimeProvider time,
    ILogger<WorkerKeyRevocations> logger) : IHostedService, IDisposable
{
    /// <summary>How often a node with other nodes checks its workers' keys against the database.</summary>
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(10);

    private IDisposable? _subscription;
    private ITimer? _check;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = cluster.Subscribe<WorkerKeyRevoked>(ClusterChannels.WorkerKeys, revoked =>
        {
            var disconnected = connections.Disconnect(revoked.KeyId);
            LogRevokedElsewhere(revoked.KeyId, disconnected);
            return Task.CompletedTask;
        });
        if (cluster.Status.State != ClusterLinkState.Alone)
        {
            // The message above is lost if Redis is away when a key is revoked on another node: the database is not.
            _check = time.CreateTimer(_ => _ = CheckAsync(), null, CheckEvery, CheckEvery);
        }
        return Task.CompletedTask;
    }

    /// <summary>Disconnects this node's workers whose named key the database says is revoked; how many.</summary>
    public async Task<int> CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var keyIds = registry.Sessions.Select(s => s.KeyId).OfType<string>()
                .Select(id => Guid.TryParseExact(id, "N", out var key) ? key : (Guid?)null).OfType<Guid>().Distinct().ToList();
            if (keyIds.Count == 0)
            {
                return 0;
            }
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var revoked = await db.WorkerKeys.AsNoTracking().Where(k => keyIds.Contains(k.Id) && k.RevokedAt != null).Select(k => k.Id).ToListAsync(cancellationToken);
            var disconnected = 0;
            foreach (var key in revoked)
            {
                var keyId = key.ToString("N");
                var count = connections.Disconnect(keyId);
                LogRevokedElsewhere(keyId, count);
                disconnected += count;
            }
            return disconnected;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            LogCheckFailed(ex);
            return 0;
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Interlocked.Exchange(ref _subscription, null)?.Dispose();
        Interlocked.Exchange(ref _check, null)?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker key {KeyId} was revoked on another node; {Disconnected} worker(s) disconnected here")]
    private partial void LogRevokedElsewhere(string keyId, int disconnected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the workers' keys against the database failed; the next check tries again")]
    private partial void LogCheckFailed(Exception ex);
}

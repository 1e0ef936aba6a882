using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Workers;

/// <summary>The message on <see cref="ClusterChannels.WorkerKeys"/>: a worker key was revoked on another node.</summary>
/// <param name="KeyId">The key's id (32 hex digits), as <see cref="WorkerSession.KeyId"/> names it.</param>
public sealed record WorkerKeyRevoked(string KeyId);

/// <summary>
/// Disconnects the workers connected to this node with a key another node revoked (the revoking node disconnects
/// its own); the key store already refuses the key to any new connection.
/// </summary>
public sealed partial class WorkerKeyRevocations(IClusterBus cluster, WorkerConnections connections, ILogger<WorkerKeyRevocations> logger) : IHostedService, IDisposable
{
    private IDisposable? _subscription;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = cluster.Subscribe<WorkerKeyRevoked>(ClusterChannels.WorkerKeys, revoked =>
        {
            var disconnected = connections.Disconnect(revoked.KeyId);
            LogRevokedElsewhere(revoked.KeyId, disconnected);
            return Task.CompletedTask;
        });
        return Task.CompletedTask;
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
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker key {KeyId} was revoked on another node; {Disconnected} worker(s) disconnected here")]
    private partial void LogRevokedElsewhere(string keyId, int disconnected);
}

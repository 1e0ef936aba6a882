using System.Collections.Concurrent;

namespace T2IStudio.Web.Cluster;

/// <summary>
/// A node on its own (no <c>ConnectionStrings:Redis</c>): there is no one to tell, and shared state is this node's.
/// </summary>
public sealed class LocalClusterBus(ClusterNode node, TimeProvider time) : IClusterBus
{
    private readonly ConcurrentDictionary<string, NodeState> _states = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ClusterNode Node { get; } = node;

    /// <inheritdoc />
    public ClusterStatus Status => ClusterStatus.Alone;

    /// <inheritdoc />
    public IDisposable OnStatusChanged(Func<ClusterStatus, Task> handler) => NoSubscription.Instance;

    /// <inheritdoc />
    public void Publish<T>(string channel, T message) where T : class
    {
    }

    /// <inheritdoc />
    public IDisposable Subscribe<T>(string channel, Func<T, Task> handler) where T : class => NoSubscription.Instance;

    /// <inheritdoc />
    public Task ShareStateAsync(string name, string json, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        _states[name] = new NodeState(Node, json, time.GetUtcNow() + lifetime);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<NodeState>> ReadStatesAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<NodeState>>(
            _states.TryGetValue(name, out var state) && state.ExpiresAt > time.GetUtcNow() ? [state] : []);

    private sealed class NoSubscription : IDisposable
    {
        public static NoSubscription Instance { get; } = new();

        public void Dispose()
        {
        }
    }
}

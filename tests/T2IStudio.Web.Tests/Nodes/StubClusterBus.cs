using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Tests.Nodes;

/// <summary>
/// A cluster link for component tests: this node plus the other nodes' shared state a test puts in, and a status
/// the test sets (telling subscribers as the real buses do).
/// </summary>
internal sealed class StubClusterBus(string nodeName) : IClusterBus
{
    private readonly Dictionary<(string Name, string NodeId), NodeState> _states = [];
    private readonly List<Func<ClusterStatus, Task>> _statusHandlers = [];

    public ClusterNode Node { get; } = new(Guid.NewGuid().ToString("N"), nodeName);

    public ClusterStatus Status { get; private set; } = new(ClusterLinkState.Connected, DateTimeOffset.UtcNow, null);

    /// <summary>Another node's value of <paramref name="name"/>, as if it shared it.</summary>
    public void Put(string name, ClusterNode node, string json)
    {
        lock (_states)
        {
            _states[(name, node.Id)] = new NodeState(node, json, DateTimeOffset.MaxValue);
        }
    }

    /// <summary>Sets the status and tells subscribers.</summary>
    public async Task SetStatusAsync(ClusterStatus status)
    {
        Status = status;
        Func<ClusterStatus, Task>[] handlers;
        lock (_statusHandlers)
        {
            handlers = [.. _statusHandlers];
        }
        foreach (var handler in handlers)
        {
            await handler(status);
        }
    }

    public IDisposable OnStatusChanged(Func<ClusterStatus, Task> handler)
    {
        lock (_statusHandlers)
        {
            _statusHandlers.Add(handler);
        }
        return new Unsubscribe(() =>
        {
            lock (_statusHandlers)
            {
                _statusHandlers.Remove(handler);
            }
        });
    }

    public void Publish<T>(string channel, T message) where T : class
    {
    }

    public IDisposable Subscribe<T>(string channel, Func<T, Task> handler) where T : class => new Unsubscribe(() => { });

    public Task ShareStateAsync(string name, string json, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        Put(name, Node, json);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<NodeState>> ReadStatesAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_states)
        {
            return Task.FromResult<IReadOnlyList<NodeState>>([.. _states.Where(s => s.Key.Name == name).Select(s => s.Value)]);
        }
    }

    private sealed class Unsubscribe(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}

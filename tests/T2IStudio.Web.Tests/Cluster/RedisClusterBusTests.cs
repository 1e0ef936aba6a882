using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Tests.Cluster;

/// <summary>Two nodes' buses on the test Redis (a prefix of their own): messages cross, in order, and state is shared.</summary>
public sealed class RedisClusterBusTests : IAsyncLifetime
{
    private readonly string _prefix = TestServices.NewRedisPrefix();
    private RedisClusterBus _a = default!;
    private RedisClusterBus _b = default!;

    public Task InitializeAsync()
    {
        _a = Bus("node-a");
        _b = Bus("node-b");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task A_message_reaches_the_other_node_in_order_and_never_its_sender()
    {
        var atB = new List<int>();
        var atA = new List<int>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var b = _b.Subscribe<Numbered>("test", m =>
        {
            lock (atB)
            {
                atB.Add(m.N);
                if (atB.Count == 200)
                {
                    all.TrySetResult();
                }
            }
            return Task.CompletedTask;
        });
        using var a = _a.Subscribe<Numbered>("test", m =>
        {
            atA.Add(m.N);
            return Task.CompletedTask;
        });
        await WaitUntilSubscribedAsync();
        for (var i = 0; i < 200; i++)
        {
            _a.Publish("test", new Numbered(i));
        }
        await all.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 200), atB);
        // The marker below travels after the 200: when B has it, A would have had its own by then too.
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var back = _a.Subscribe<Numbered>("marker", _ =>
        {
            marker.TrySetResult();
            return Task.CompletedTask;
        });
        await WaitUntilSubscribedAsync();
        _b.Publish("marker", new Numbered(-1));
        await marker.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(atA);
    }

    [Fact]
    public async Task Each_node_reads_every_live_nodes_state_and_an_expired_one_drops_out()
    {
        // One clock for both nodes, moved by the test: expiry is judged without waiting.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var a = Bus("node-a", clock);
        await using var b = Bus("node-b", clock);
        await a.ShareStateAsync("things", "\"a\"", TimeSpan.FromMinutes(1));
        await b.ShareStateAsync("things", "\"b\"", TimeSpan.FromMinutes(1));
        var seenByA = await a.ReadStatesAsync("things");
        Assert.Equal(["\"a\"", "\"b\""], seenByA.Select(s => s.Json));
        Assert.Equal(["node-a", "node-b"], seenByA.Select(s => s.Node.Name));

        await b.ShareStateAsync("things", "\"b2\"", TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(["\"a\""], (await a.ReadStatesAsync("things")).Select(s => s.Json));
    }

    [Fact]
    public async Task Without_Redis_a_node_is_lost_publishing_does_not_throw_and_it_reads_its_own_state()
    {
        await using var alone = new RedisClusterBus(new ClusterNode(Guid.NewGuid().ToString("N"), "alone"), "127.0.0.1:1,connectTimeout=200", _prefix, TimeProvider.System, NullLogger<RedisClusterBus>.Instance);
        Assert.Equal(ClusterLinkState.Lost, alone.Status.State);
        Assert.Contains("127.0.0.1:1", alone.Status.Problem, StringComparison.Ordinal);
        alone.Publish("test", new Numbered(1));
        await alone.ShareStateAsync("things", "\"mine\"", TimeSpan.FromMinutes(1));
        Assert.Equal(["\"mine\""], (await alone.ReadStatesAsync("things")).Select(s => s.Json));
    }

    private RedisClusterBus Bus(string name, TimeProvider? time = null) =>
        new(new ClusterNode(Guid.NewGuid().ToString("N"), name), TestServices.Redis, _prefix, time ?? TimeProvider.System, NullLogger<RedisClusterBus>.Instance);

    /// <summary>Subscriptions are made in the background: a round trip on a probe channel shows they are in place.</summary>
    private async Task WaitUntilSubscribedAsync()
    {
        var probe = "probe-" + Guid.NewGuid().ToString("N");
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listen = _b.Subscribe<Numbered>(probe, _ =>
        {
            heard.TrySetResult();
            return Task.CompletedTask;
        });
        using var listenA = _a.Subscribe<Numbered>(probe, _ =>
        {
            heard.TrySetResult();
            return Task.CompletedTask;
        });
        while (!heard.Task.IsCompleted)
        {
            _a.Publish(probe, new Numbered(0));
            _b.Publish(probe, new Numbered(0));
            await Task.WhenAny(heard.Task, Task.Delay(50));
        }
    }

    private sealed record Numbered(int N);
}

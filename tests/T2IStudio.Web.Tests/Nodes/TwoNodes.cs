using T2IStudio.Testing;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Nodes;

/// <summary>
/// Two web nodes (<c>node-1</c>, <c>node-2</c>) on one storage root (so one SQLite file) linked through the test
/// Redis under a prefix of their own; no in-process workers unless asked.
/// </summary>
public sealed class TwoNodes : IAsyncDisposable
{
    /// <summary>How long a condition that needs another node's news may take on a busy machine.</summary>
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private TwoNodes(StudioAppFactory node1, StudioAppFactory node2)
    {
        Node1 = node1;
        Node2 = node2;
    }

    /// <summary>The first node (it made the database).</summary>
    public StudioAppFactory Node1 { get; }

    /// <summary>The second node, on the first one's storage root.</summary>
    public StudioAppFactory Node2 { get; }

    /// <summary>Starts both nodes.</summary>
    public static TwoNodes Start(bool runWorkers = false)
    {
        var prefix = TestServices.NewRedisPrefix();
        var node1 = new StudioAppFactory(settings: Settings("node-1", prefix, runWorkers));
        _ = node1.Server; // migrates the database before the second node opens it
        var node2 = new StudioAppFactory(node1.StorageRoot, Settings("node-2", prefix, runWorkers));
        _ = node2.Server;
        return new TwoNodes(node1, node2);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, looking again every tenth of a second; fails after <see cref="Generous"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        using var timeout = new CancellationTokenSource(Generous);
        while (!await condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Node2.DisposeAsync();
        await Node1.DisposeAsync();
    }

    private static Dictionary<string, string?> Settings(string name, string prefix, bool runWorkers) => new()
    {
        ["Cluster:NodeName"] = name,
        ["Cluster:RedisPrefix"] = prefix,
        ["ConnectionStrings:Redis"] = TestServices.Redis,
        ["Queue:RunWorker"] = runWorkers ? "true" : "false",
        // A test that holds a lease without heartbeats keeps it on a slow machine.
        ["Workers:LeaseSeconds"] = "600",
    };
}

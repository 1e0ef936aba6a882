using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Tests.Realtime;

/// <summary>Two nodes' notifiers on Redis: every event kind crosses intact, in order, once; and losing Redis keeps local delivery.</summary>
public sealed class EventsAcrossNodesTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_event_kind_reaches_the_other_node_intact_in_order_once_except_standings()
    {
        var prefix = TestServices.NewRedisPrefix();
        await using var busA = Bus("node-a", TestServices.Redis, prefix);
        await using var busB = Bus("node-b", TestServices.Redis, prefix);
        using var a = new StudioNotifier(busA, NullLogger<StudioNotifier>.Instance);
        using var b = new StudioNotifier(busB, NullLogger<StudioNotifier>.Instance);
        await UntilLinkedAsync(a, b);
        await UntilLinkedAsync(b, a);
        var job = Guid.NewGuid();
        StudioEvent[] sent =
        [
            new JobQueued(job, "ana"),
            new JobStarted(job, "ana"),
            new JobProgress(job, "ana", 1, 2, [0xFF, 0xD8, 0xFF, 0x00, 0x7F]),
            new JobProgress(job, "ana", 2, 2, null),
            new JobCompleted(job, "ana", [Guid.NewGuid(), Guid.NewGuid()]),
            new JobFailed(job, "ana", "There is no model 'retired'."),
            new JobCanceled(job, "ana"),
            new GalleryChanged(job, "ana"),
            new TeamChanged(Guid.NewGuid(), "ana", Removed: true),
            new GalleryUpdated(Guid.NewGuid(), "ana"),
            new CommentsChanged(Guid.NewGuid(), "ana"),
            new PresenceChanged(Guid.NewGuid(), "ana"),
        ];
        var atA = new List<StudioEvent>();
        var atB = new List<StudioEvent>();
        var marker = new PresenceChanged(Guid.NewGuid(), "ana");
        var markerAtB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listenA = a.Subscribe("ana", e => { lock (atA) { atA.Add(e); } return Task.CompletedTask; });
        using var listenB = b.Subscribe("ana", e =>
        {
            lock (atB)
            {
                atB.Add(e);
            }
            if (e == marker)
            {
                markerAtB.TrySetResult();
            }
            return Task.CompletedTask;
        });

        var standing = new JobStandingChanged(job, "ana", new QueueStanding(3, 0, 2, TimeSpan.FromSeconds(4)));
        foreach (var e in sent.Take(4).Append(standing).Concat(sent.Skip(4)))
        {
            a.Publish(e);
        }
        a.Publish(marker);
        await markerAtB.Task.WaitAsync(Generous);

        // B heard each kind once, equal field by field (JSON compares the preview bytes and image ids too), in order.
        Assert.Equal(sent.Append(marker).Select(Wire), Snapshot(atB).Select(Wire));
        // A heard its own events once each, the standing included (it stays on the node that worked it out).
        var fromB = new PresenceChanged(Guid.NewGuid(), "ana");
        var backAtA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listenBack = a.Subscribe("ana", e =>
        {
            if (e == fromB)
            {
                backAtA.TrySetResult();
            }
            return Task.CompletedTask;
        });
        b.Publish(fromB);
        await backAtA.Task.WaitAsync(Generous);
        Assert.Equal(sent.Take(4).Append(standing).Concat(sent.Skip(4)).Append(marker).Append(fromB).Select(Wire), Snapshot(atA).Select(Wire));
        // B heard its own event once: nothing comes back to the node that sent it.
        Assert.Equal(sent.Append(marker).Append(fromB).Select(Wire), Snapshot(atB).Select(Wire));
    }

    [Fact]
    public void Every_kind_of_studio_event_has_a_discriminator_so_it_can_cross_nodes()
    {
        var kinds = typeof(StudioEvent).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(StudioEvent)) && !t.IsAbstract);
        var named = typeof(StudioEvent).GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonDerivedTypeAttribute), inherit: false)
            .Cast<System.Text.Json.Serialization.JsonDerivedTypeAttribute>().Select(a => a.DerivedType);
        Assert.Empty(kinds.Except(named));
    }

    [Fact]
    public async Task A_node_that_loses_Redis_still_delivers_its_own_events_says_lost_and_links_again_when_Redis_is_back()
    {
        var port = FreePort();
        var prefix = TestServices.NewRedisPrefix();
        using var redis = new PrivateRedis(port);
        await redis.StartAsync();
        var address = $"127.0.0.1:{port},connectTimeout=1000";
        await using var busA = Bus("node-a", address, prefix);
        await using var busB = Bus("node-b", address, prefix);
        using var a = new StudioNotifier(busA, NullLogger<StudioNotifier>.Instance);
        using var b = new StudioNotifier(busB, NullLogger<StudioNotifier>.Instance);
        await UntilLinkedAsync(a, b);
        Assert.Equal(ClusterLinkState.Connected, busA.Status.State);

        redis.Stop();
        await UntilAsync(() => busA.Status.State == ClusterLinkState.Lost && busB.Status.State == ClusterLinkState.Lost);
        Assert.NotNull(busA.Status.Problem);
        var atA = new List<StudioEvent>();
        using (a.Subscribe("ana", e => { lock (atA) { atA.Add(e); } return Task.CompletedTask; }))
        {
            var whileLost = new CommentsChanged(Guid.NewGuid(), "ana");
            a.Publish(whileLost); // must not throw, and this node's own pages hear it
            Assert.Equal([whileLost], Snapshot(atA));
        }

        await redis.StartAsync();
        await UntilAsync(() => busA.Status.State == ClusterLinkState.Connected && busB.Status.State == ClusterLinkState.Connected);
        // Subscriptions come back by themselves: events cross again both ways.
        await UntilLinkedAsync(a, b);
        await UntilLinkedAsync(b, a);
    }

    private static RedisClusterBus Bus(string name, string address, string prefix) =>
        new(new ClusterNode(Guid.NewGuid().ToString("N"), name), address, prefix, TimeProvider.System, NullLogger<RedisClusterBus>.Instance);

    private static string Wire(StudioEvent e) => JsonSerializer.Serialize(e);

    private static List<StudioEvent> Snapshot(List<StudioEvent> list)
    {
        lock (list)
        {
            return [.. list];
        }
    }

    /// <summary>Subscriptions are made in the background: publishes a probe from <paramref name="from"/> until <paramref name="to"/> hears one.</summary>
    internal static async Task UntilLinkedAsync(StudioNotifier from, StudioNotifier to)
    {
        var probe = "probe-" + Guid.NewGuid().ToString("N");
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listen = to.Subscribe(probe, _ =>
        {
            heard.TrySetResult();
            return Task.CompletedTask;
        });
        var deadline = Stopwatch.StartNew();
        while (!heard.Task.IsCompleted)
        {
            Assert.True(deadline.Elapsed < Generous, "The other node never heard a probe.");
            from.Publish(new PresenceChanged(Guid.Empty, probe));
            await Task.WhenAny(heard.Task, Task.Delay(100));
        }
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < Generous, "The condition never held.");
            await Task.Delay(50);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A redis-server of this test's own on a loopback port, so it can be stopped and started again.</summary>
    private sealed class PrivateRedis(int port) : IDisposable
    {
        private Process? _process;

        public async Task StartAsync()
        {
            var start = new ProcessStartInfo("redis-server")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
            {
                start.ArgumentList.Add(argument);
            }
            _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            await UntilAcceptsAsync();
        }

        public void Stop()
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill();
                process.WaitForExit();
            }
            _process?.Dispose();
            _process = null;
        }

        public void Dispose() => Stop();

        private async Task UntilAcceptsAsync()
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException) when (deadline.Elapsed < Generous)
                {
                    await Task.Delay(50);
                }
            }
        }
    }
}

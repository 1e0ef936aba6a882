using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Comments;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;
using T2IStudio.Web.Tests.Realtime;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Cluster;

/// <summary>Two web nodes on one SQLite file and one Redis (a prefix of their own); only node 1 runs the in-process worker.</summary>
public sealed class TwoNodeFixture : IAsyncLifetime
{
    public const string WorkerKey = "two-node-worker-key-0123456789abcdef";

    private readonly string _prefix = TestServices.NewRedisPrefix();

    public StudioAppFactory Node1 { get; private set; } = default!;

    public StudioAppFactory Node2 { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        Node1 = new StudioAppFactory(settings: Settings(runWorker: true));
        _ = Node1.Services; // node 1 migrates the shared file before node 2 starts
        Node2 = new StudioAppFactory(Node1.StorageRoot, Settings(runWorker: false));
        // The singletons that listen to the other node subscribe when made; then wait until each channel is live.
        foreach (var node in new[] { Node1, Node2 })
        {
            _ = node.Services.GetRequiredService<UserAccessGate>();
            _ = node.Services.GetRequiredService<GalleryPresence>();
        }
        await EventsAcrossNodesTests.UntilLinkedAsync(Notifier(Node1), Notifier(Node2));
        await EventsAcrossNodesTests.UntilLinkedAsync(Notifier(Node2), Notifier(Node1));
        await UntilAccessLinkedAsync();
    }

    public Task DisposeAsync()
    {
        Node2.Dispose();
        Node1.Dispose();
        return Task.CompletedTask;
    }

    public static StudioNotifier Notifier(StudioAppFactory node) => node.Services.GetRequiredService<StudioNotifier>();

    private Dictionary<string, string?> Settings(bool runWorker) => new()
    {
        ["ConnectionStrings:Redis"] = TestServices.Redis,
        ["Cluster:RedisPrefix"] = _prefix,
        ["Queue:RunWorker"] = runWorker ? "true" : "false",
        ["Workers:Keys:0"] = WorkerKey,
    };

    private async Task UntilAccessLinkedAsync()
    {
        var probe = "probe-" + Guid.NewGuid().ToString("N");
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listen = Node2.Services.GetRequiredService<IClusterBus>().Subscribe<AccessSignal>(ClusterChannels.Access, s =>
        {
            if (s.UserId == probe)
            {
                heard.TrySetResult();
            }
            return Task.CompletedTask;
        });
        var bus1 = Node1.Services.GetRequiredService<IClusterBus>();
        var deadline = Stopwatch.StartNew();
        while (!heard.Task.IsCompleted)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "Node 2 never heard node 1 on the access channel.");
            bus1.Publish(ClusterChannels.Access, new AccessSignal(probe, true));
            await Task.WhenAny(heard.Task, Task.Delay(100));
        }
    }
}

/// <summary>What a person's pages on node 2 hear of what happens on node 1, once each and in order.</summary>
public sealed class TwoNodeTests(TwoNodeFixture fixture) : IClassFixture<TwoNodeFixture>
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly StudioAppFactory _node1 = fixture.Node1;
    private readonly StudioAppFactory _node2 = fixture.Node2;

    [Fact]
    public async Task A_job_and_a_comment_on_node_1_reach_the_persons_pages_on_node_2_in_order_once()
    {
        var ana = await _node1.CreateUserAsync("ana-" + Guid.NewGuid().ToString("N")[..8] + "@example.test");
        using var at1 = new Heard(TwoNodeFixture.Notifier(_node1), ana.Id);
        using var at2 = new Heard(TwoNodeFixture.Notifier(_node2), ana.Id);

        var (jobId, imageIds) = await _node1.GenerateAsync(ana, GenerationQueueTests.Request(prompt: "a red circle", steps: 4));
        var completed = await at2.WaitForAsync<JobCompleted>(e => e.JobId == jobId);
        Assert.Equal(imageIds, completed.ImageIds);
        await MarkAsync(ana.Id, at2);

        // Node 2 heard the job's events exactly as node 1 did: same events (previews included), same order, once each.
        var onNode1 = JobEvents(at1.Events, jobId);
        var onNode2 = JobEvents(at2.Events, jobId);
        Assert.Equal(onNode1.Select(Wire), onNode2.Select(Wire));
        Assert.IsType<JobQueued>(onNode2[0]);
        Assert.IsType<JobStarted>(onNode2[1]);
        Assert.IsType<JobCompleted>(onNode2[^1]);
        Assert.Contains(onNode2, e => e is JobProgress);
        Assert.True(onNode2.Skip(2).SkipLast(1).All(e => e is JobProgress), string.Join(", ", onNode2.Select(e => e.GetType().Name)));

        using (var scope = _node1.Services.CreateScope())
        {
            var added = await scope.ServiceProvider.GetRequiredService<CommentService>().AddAsync(StudioAppFactory.PrincipalOf(ana), imageIds[0], "Nice circle");
            Assert.True(added.Succeeded, string.Join(" ", added.Errors));
        }
        await at2.WaitForAsync<CommentsChanged>(e => e.ImageId == imageIds[0]);
        await MarkAsync(ana.Id, at2);
        Assert.Single(at2.Events, e => e is CommentsChanged c && c.ImageId == imageIds[0]);
        Assert.Single(at1.Events, e => e is CommentsChanged c && c.ImageId == imageIds[0]);
        Assert.Single(at2.Events, e => e is JobCompleted c && c.JobId == jobId);
    }

    [Fact]
    public async Task A_member_removed_on_node_1_hears_it_on_node_2_once()
    {
        var owner = await _node1.CreateUserAsync("owner-" + Guid.NewGuid().ToString("N")[..8] + "@example.test");
        var ben = await _node1.CreateUserAsync("ben-" + Guid.NewGuid().ToString("N")[..8] + "@example.test");
        using var at2 = new Heard(TwoNodeFixture.Notifier(_node2), ben.Id);
        Guid teamId;
        using (var scope = _node1.Services.CreateScope())
        {
            var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
            var ownerPrincipal = StudioAppFactory.PrincipalOf(owner);
            teamId = (await teams.CreateAsync(ownerPrincipal, "Studio " + Guid.NewGuid().ToString("N")[..6])).Id!.Value;
            Assert.True((await teams.JoinByInvitationAsync(ownerPrincipal, teamId, ben, TeamRole.Editor)).Succeeded);
        }
        await at2.WaitForAsync<TeamChanged>(e => e.TeamId == teamId && !e.Removed); // he joined

        using (var scope = _node1.Services.CreateScope())
        {
            var removed = await scope.ServiceProvider.GetRequiredService<TeamService>().RemoveMemberAsync(StudioAppFactory.PrincipalOf(owner), teamId, ben.Id);
            Assert.True(removed.Succeeded, string.Join(" ", removed.Errors));
        }

        await at2.WaitForAsync<TeamChanged>(e => e.TeamId == teamId && e.Removed);
        await MarkAsync(ben.Id, at2);
        Assert.Single(at2.Events, e => e is TeamChanged { Removed: true } t && t.TeamId == teamId);
    }

    [Fact]
    public async Task An_account_disabled_on_node_1_is_refused_by_node_2_as_soon_as_node_2_hears_of_it()
    {
        var admin = await _node1.CreateUserAsync("admin-" + Guid.NewGuid().ToString("N")[..8] + "@example.test");
        await _node1.MakeAdminAsync(admin);
        var cleo = await _node1.CreateUserAsync("cleo-" + Guid.NewGuid().ToString("N")[..8] + "@example.test");
        var gate2 = _node2.Services.GetRequiredService<UserAccessGate>();
        Assert.True(await gate2.IsAllowedAsync(cleo.Id)); // node 2 now holds "allowed" in its cache
        var told = new TaskCompletionSource<AccessSignal>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Listeners of a channel run in the order they subscribed: the gate's (made with it) runs before this one.
        using var listen = _node2.Services.GetRequiredService<IClusterBus>().Subscribe<AccessSignal>(ClusterChannels.Access, s =>
        {
            if (s.UserId == cleo.Id)
            {
                told.TrySetResult(s);
            }
            return Task.CompletedTask;
        });

        using (var scope = _node1.Services.CreateScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<AccountAdministration>().SetDisabledAsync(admin.Id, cleo.Id, disabled: true);
            Assert.True(result.Succeeded, result.Message);
        }

        Assert.False((await told.Task.WaitAsync(Generous)).Allowed);
        Assert.False(await gate2.IsAllowedAsync(cleo.Id));
    }

    [Fact]
    public async Task People_looking_at_a_gallery_on_either_node_are_seen_on_both_and_leave_on_both()
    {
        var gallery = Guid.NewGuid();
        var presence1 = _node1.Services.GetRequiredService<GalleryPresence>();
        var presence2 = _node2.Services.GetRequiredService<GalleryPresence>();
        var ana = "ana-" + Guid.NewGuid().ToString("N");
        var ben = "ben-" + Guid.NewGuid().ToString("N");
        using var benHears = new Heard(TwoNodeFixture.Notifier(_node2), ben);
        using var anaHears = new Heard(TwoNodeFixture.Notifier(_node1), ana);

        // Ben hears Ana arrive, his own arrival, and Ana leave; Ana hears herself and Ben arrive.
        var anaVisit = presence1.Join(gallery, new PresentPerson(ana, "Ana"), [ana, ben]);
        await benHears.WaitForCountAsync<PresenceChanged>(1, p => p.GalleryId == gallery);
        Assert.Equal(["Ana"], (await presence2.WhoAsync(gallery)).Select(p => p.DisplayName));

        using var benVisit = presence2.Join(gallery, new PresentPerson(ben, "Ben"), [ana, ben]);
        await anaHears.WaitForCountAsync<PresenceChanged>(2, p => p.GalleryId == gallery);
        Assert.Equal(["Ana", "Ben"], (await presence1.WhoAsync(gallery)).Select(p => p.DisplayName));
        Assert.Equal(["Ana", "Ben"], (await presence2.WhoAsync(gallery)).Select(p => p.DisplayName));

        anaVisit.Dispose();
        await benHears.WaitForCountAsync<PresenceChanged>(3, p => p.GalleryId == gallery);
        Assert.Equal(["Ben"], (await presence2.WhoAsync(gallery)).Select(p => p.DisplayName));
        await MarkAsync(ben, benHears);
        Assert.Equal(3, benHears.Events.Count(e => e is PresenceChanged p && p.GalleryId == gallery));
    }

    [Fact]
    public async Task The_worker_hub_on_node_1_reaches_a_worker_connected_to_node_2_and_circuits_stay_in_process()
    {
        Assert.IsType<RedisHubLifetimeManager<WorkerHub>>(_node1.Services.GetRequiredService<HubLifetimeManager<WorkerHub>>());
        var componentHub = Type.GetType("Microsoft.AspNetCore.Components.Server.ComponentHub, Microsoft.AspNetCore.Components.Server", throwOnError: true)!;
        var circuitManager = _node1.Services.GetRequiredService(typeof(HubLifetimeManager<>).MakeGenericType(componentHub));
        Assert.Equal(typeof(DefaultHubLifetimeManager<>).MakeGenericType(componentHub), circuitManager.GetType());

        var server = _node2.Server;
        await using var worker = new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, WorkerHubNames.Path), options =>
            {
                options.HttpMessageHandlerFactory = _ => server.CreateHandler();
                options.Transports = HttpTransportType.LongPolling;
                options.AccessTokenProvider = () => Task.FromResult<string?>(TwoNodeFixture.WorkerKey);
            })
            .Build();
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        worker.On<string>("Probe", text => received.TrySetResult(text));
        await worker.StartAsync();

        await _node1.Services.GetRequiredService<IHubContext<WorkerHub>>().Clients.Client(worker.ConnectionId!).SendAsync("Probe", "from node 1");

        Assert.Equal("from node 1", await received.Task.WaitAsync(Generous));
    }

    private static string Wire(StudioEvent e) => JsonSerializer.Serialize(e);

    private static List<StudioEvent> JobEvents(IReadOnlyList<StudioEvent> events, Guid jobId)
    {
        var of = events.Where(e => e is JobEvent j && j.JobId == jobId && e is not JobStandingChanged and not GalleryChanged).ToList();
        return of[..(of.FindIndex(e => e is JobCompleted) + 1)];
    }

    /// <summary>Sends a marker from node 1 and waits for it on node 2: everything node 1 sent before has arrived by then.</summary>
    private async Task MarkAsync(string userId, Heard at2)
    {
        var marker = new PresenceChanged(Guid.NewGuid(), userId);
        TwoNodeFixture.Notifier(_node1).Publish(marker);
        await at2.WaitForAsync<PresenceChanged>(e => e == marker);
    }

    /// <summary>Everything one person's pages on one node hear.</summary>
    private sealed class Heard : IDisposable
    {
        private readonly List<StudioEvent> _events = [];
        private readonly IDisposable _subscription;
        private readonly SemaphoreSlim _arrived = new(0);

        public Heard(StudioNotifier notifier, string userId) =>
            _subscription = notifier.Subscribe(userId, e =>
            {
                lock (_events)
                {
                    _events.Add(e);
                }
                _arrived.Release();
                return Task.CompletedTask;
            });

        public IReadOnlyList<StudioEvent> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        public async Task<T> WaitForAsync<T>(Func<T, bool> match) where T : StudioEvent
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                if (Events.OfType<T>().FirstOrDefault(match) is { } found)
                {
                    return found;
                }
                Assert.True(deadline.Elapsed < Generous, $"No matching {typeof(T).Name} arrived.");
                await _arrived.WaitAsync(TimeSpan.FromSeconds(1));
            }
        }

        public Task<T> WaitForCountAsync<T>(int count, Func<T, bool> match) where T : StudioEvent =>
            WaitForAsync<T>(_ => Events.OfType<T>().Count(match) >= count);

        public void Dispose()
        {
            _subscription.Dispose();
            _arrived.Dispose();
        }
    }
}

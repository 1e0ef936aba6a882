using System.Text.Json;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Components.Admin;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Nodes;

/// <summary>The Admin page's Cluster section and the other nodes' rows on Admin → Workers.</summary>
public sealed class ClusterSectionTests : StudioComponentTestBase
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public void A_single_node_says_so()
    {
        var page = Render<ClusterSection>();

        Assert.Equal("Cluster", page.Find("h2#cluster-heading").TextContent.Trim());
        Assert.Equal("cluster-heading", page.Find("section").GetAttribute("aria-labelledby"));
        Assert.Equal("Single node (no Redis configured)", Redis(page));
        Assert.Equal(Environment.MachineName, page.Find("[data-testid=cluster-node]").TextContent.Trim());
        Assert.Equal([$"{Environment.MachineName} (this node) · 0 workers"], NodesSeen(page));
    }

    [Fact]
    public async Task The_section_shows_the_nodes_seen_and_follows_the_redis_link_live()
    {
        var bus = new StubClusterBus("node-1");
        Services.AddSingleton<IClusterBus>(bus);
        var other = new ClusterNode(Guid.NewGuid().ToString("N"), "node-2");
        bus.Put(ClusterStates.Workers, other, JsonSerializer.Serialize(new[] { Worker(other, "gpu-box") }, Json));
        var page = Render<ClusterSection>();
        Assert.Equal("Connected", Redis(page));
        Assert.Equal("node-1", page.Find("[data-testid=cluster-node]").TextContent.Trim());

        await Services.GetRequiredService<WorkerDirectory>().ReadAsync();
        page.WaitForAssertion(() => Assert.Equal(["node-1 (this node) · 0 workers", "node-2 · 1 worker"], NodesSeen(page)));

        var since = new DateTimeOffset(2026, 12, 2, 7, 30, 0, TimeSpan.Zero);
        await bus.SetStatusAsync(new ClusterStatus(ClusterLinkState.Lost, since, "Redis connection lost (SocketFailure): no answer"));
        page.WaitForAssertion(() => Assert.Equal("Lost since 2026-12-02 07:30:00 UTC: Redis connection lost (SocketFailure): no answer", Redis(page)));

        await bus.SetStatusAsync(new ClusterStatus(ClusterLinkState.Connected, since.AddMinutes(1), null));
        page.WaitForAssertion(() => Assert.Equal("Connected", Redis(page)));
    }

    [Fact]
    public async Task Admin_workers_lists_every_nodes_workers_with_their_node_live()
    {
        var bus = new StubClusterBus("node-1");
        Services.AddSingleton<IClusterBus>(bus);
        AddAuthorization().SetAuthorized("admin@example.test");
        Services.GetRequiredService<WorkerRegistry>().Join(new WorkerHello(Guid.NewGuid(), "local-box", "cpu", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);
        var page = Render<AdminWorkers>();
        page.WaitForAssertion(() => Assert.Equal(new[] { ("local-box", "node-1 (this node)") }, Rows(page)));

        var other = new ClusterNode(Guid.NewGuid().ToString("N"), "node-2");
        bus.Put(ClusterStates.Workers, other, JsonSerializer.Serialize(new[] { Worker(other, "gpu-box") }, Json));
        await Services.GetRequiredService<WorkerDirectory>().ReadAsync();

        page.WaitForAssertion(() => Assert.Equal(new[] { ("local-box", "node-1 (this node)"), ("gpu-box", "node-2") }, Rows(page)));
        Assert.Contains("Running", page.FindAll("tbody tr")[1].TextContent, StringComparison.Ordinal);
        // The page only reads: no control acts on another node's worker.
        Assert.Empty(page.FindAll("tbody button"));
    }

    private static ClusterWorker Worker(ClusterNode node, string name) =>
        new(node.Id, node.Name, Guid.NewGuid().ToString("N"), name, WorkerKind.Remote, "cuda:0", null, ["t2istudio-tiny"],
            Guid.NewGuid(), 4, 2, 0, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, new Dictionary<string, double> { ["t2istudio-tiny"] = 0.5 });

    private static string Redis(IRenderedComponent<ClusterSection> page) =>
        System.Text.RegularExpressions.Regex.Replace(page.Find("[role=status][aria-label=Redis]").TextContent, @"\s+", " ").Trim();

    private static string[] NodesSeen(IRenderedComponent<ClusterSection> page) =>
        [.. page.FindAll("ul[aria-label='Nodes seen'] li").Select(li => System.Text.RegularExpressions.Regex.Replace(li.TextContent, @"\s+", " ").Trim())];

    private static (string Name, string Node)[] Rows(IRenderedComponent<AdminWorkers> page) =>
        [.. page.FindAll("tbody tr").Select(row => (
            row.QuerySelector("th[scope=row]")!.TextContent.Trim(),
            System.Text.RegularExpressions.Regex.Replace(row.QuerySelector("td[data-label=Node]")!.TextContent, @"\s+", " ").Trim()))];
}

using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Nodes;

/// <summary>Revoking a worker key on one node disconnects the workers using it on every node (real Redis).</summary>
public sealed class WorkerKeyRevocationTests
{
    [Fact]
    public async Task Revoking_a_key_on_node_1_disconnects_the_worker_that_joined_node_2_with_it()
    {
        await using var nodes = TwoNodes.Start();
        var admin = StudioAppFactory.PrincipalOf(await JobSafetyTests.MakeAdminAsync(nodes.Node1, "revoke-admin@example.test"));
        var keys = nodes.Node1.Services.GetRequiredService<WorkerKeyService>();
        var created = (await keys.CreateAsync(admin, "box on node 2")).Created!;
        await using var connection = Connect(nodes.Node2, created.Secret);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        await connection.StartAsync();
        var hello = new WorkerHello(Guid.NewGuid(), "box on node 2", "cpu", null, ["t2istudio-tiny"], "test");
        await connection.InvokeAsync<WorkerWelcome>(WorkerHubNames.Hello, hello);
        var registry2 = nodes.Node2.Services.GetRequiredService<WorkerRegistry>();
        Assert.NotNull(registry2.Find(hello.WorkerId.ToString("N")));

        Assert.True(await keys.RevokeAsync(admin, created.Key.Id));

        await closed.Task.WaitAsync(TwoNodes.Generous);
        await TwoNodes.UntilAsync(() => Task.FromResult(registry2.Find(hello.WorkerId.ToString("N")) is null), "node 2 forgets the worker");
    }

    [Fact]
    public async Task A_revocation_whose_message_was_lost_is_found_in_the_database_and_the_worker_is_disconnected()
    {
        await using var nodes = TwoNodes.Start();
        var admin = StudioAppFactory.PrincipalOf(await JobSafetyTests.MakeAdminAsync(nodes.Node1, "lost-revoke@example.test"));
        var created = (await nodes.Node1.Services.GetRequiredService<WorkerKeyService>().CreateAsync(admin, "box on node 2")).Created!;
        await using var connection = Connect(nodes.Node2, created.Secret);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        await connection.StartAsync();
        await connection.InvokeAsync<WorkerWelcome>(WorkerHubNames.Hello, new WorkerHello(Guid.NewGuid(), "box on node 2", "cpu", null, ["t2istudio-tiny"], "test"));
        var revocations = nodes.Node2.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<WorkerKeyRevocations>().Single();
        Assert.Equal(0, await revocations.CheckAsync());

        // Revoked while Redis was away: the row says so, no message came.
        await using (var db = await nodes.Node1.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<T2IStudio.Data.AppDbContext>>().CreateDbContextAsync())
        {
            var row = await db.WorkerKeys.SingleAsync(k => k.Id == created.Key.Id);
            row.RevokedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync();
        }

        Assert.Equal(1, await revocations.CheckAsync());
        await closed.Task.WaitAsync(TwoNodes.Generous);
    }

    private static HubConnection Connect(StudioAppFactory node, string key)
    {
        var server = node.Server;
        return new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, WorkerHubNames.Path), options =>
            {
                options.HttpMessageHandlerFactory = _ => server.CreateHandler();
                options.Transports = HttpTransportType.LongPolling;
                options.AccessTokenProvider = () => Task.FromResult<string?>(key);
            })
            .Build();
    }
}

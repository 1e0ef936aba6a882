using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Integration.Workers;

/// <summary>One app with one configured worker key, shared by the hub tests.</summary>
public sealed class WorkerHubFixture : IDisposable
{
    public const string ConfiguredKey = "configured-worker-key-0123456789abcdef";

    public StudioAppFactory Factory { get; } = new(settings: new Dictionary<string, string?> { ["Workers:Keys:0"] = ConfiguredKey });

    public void Dispose() => Factory.Dispose();
}

/// <summary><c>/hubs/workers</c>: who may join (worker keys), and that a worker reports only on jobs it holds.</summary>
public sealed class WorkerHubTests(WorkerHubFixture fixture) : IClassFixture<WorkerHubFixture>
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private readonly StudioAppFactory _app = fixture.Factory;

    [Fact]
    public async Task A_wrong_key_is_refused_with_401_on_negotiate()
    {
        using var response = await NegotiateAsync("not-a-worker-key-but-long-enough-0123456789");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(WorkerKeyAuthentication.RefusedMessage, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task No_key_is_refused_with_401_not_sent_to_the_sign_in_page()
    {
        using var response = await NegotiateAsync(key: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task A_key_in_the_access_token_query_is_checked_like_the_header()
    {
        using var client = _app.CreateBrowserlikeClient();
        var path = WorkerHubNames.Path + "/negotiate?negotiateVersion=1&access_token=";

        using var accepted = await client.PostAsync(new Uri(path + Uri.EscapeDataString(WorkerHubFixture.ConfiguredKey), UriKind.Relative), null);
        using var refused = await client.PostAsync(new Uri(path + "wrong-wrong-wrong-wrong-wrong-wrong-wrong", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task A_signalr_client_with_a_wrong_key_fails_to_start_with_401()
    {
        await using var connection = Connect("wrong-key-wrong-key-wrong-key-wrong-key");

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => connection.StartAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task A_configured_key_joins_and_is_welcomed_with_the_lease_settings()
    {
        await using var connection = Connect(WorkerHubFixture.ConfiguredKey);
        await connection.StartAsync();
        var hello = Hello("configured box");

        var welcome = await connection.InvokeAsync<WorkerWelcome>(WorkerHubNames.Hello, hello);

        Assert.Equal(new WorkerWelcome(5, 30), welcome);
        var session = _app.Services.GetRequiredService<WorkerRegistry>().Find(hello.WorkerId.ToString("N"));
        Assert.NotNull(session);
        Assert.Equal(WorkerKind.Remote, session.Kind);
        Assert.Equal("configured box", session.Name);
        Assert.Equal(["tiny"], session.Models);
    }

    [Fact]
    public async Task A_created_key_joins_until_it_is_revoked_then_it_is_refused()
    {
        var admin = StudioAppFactory.PrincipalOf(await JobSafetyTests.MakeAdminAsync(_app, "keys-admin@example.test"));
        var keys = _app.Services.GetRequiredService<WorkerKeyService>();
        var created = (await keys.CreateAsync(admin, "render box 2")).Created;
        Assert.NotNull(created);
        Assert.True(created.Secret.Length >= 43);
        Assert.StartsWith(created.Key.Prefix, created.Secret, StringComparison.Ordinal);

        using (var accepted = await NegotiateAsync(created.Secret))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var row = await db.WorkerKeys.SingleAsync(k => k.Id == created.Key.Id);
            Assert.NotNull(row.LastUsedAt);
            Assert.NotEqual(created.Secret, row.KeyHash);
            Assert.Equal(WorkerKeyVerifier.Hash(created.Secret), row.KeyHash);
        }

        Assert.True(await keys.RevokeAsync(admin, created.Key.Id));

        using var refused = await NegotiateAsync(created.Secret);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var listed = Assert.Single(await keys.ListAsync(admin), k => k.Id == created.Key.Id);
        Assert.True(listed.IsRevoked);
    }

    [Fact]
    public async Task Revoking_a_key_disconnects_the_workers_using_it()
    {
        var admin = StudioAppFactory.PrincipalOf(await JobSafetyTests.MakeAdminAsync(_app, "revoker@example.test"));
        var keys = _app.Services.GetRequiredService<WorkerKeyService>();
        var created = (await keys.CreateAsync(admin, "doomed box")).Created!;
        await using var connection = Connect(created.Secret);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        await connection.StartAsync();
        var hello = Hello("doomed box");
        await connection.InvokeAsync<WorkerWelcome>(WorkerHubNames.Hello, hello);

        await keys.RevokeAsync(admin, created.Key.Id);

        await closed.Task.WaitAsync(Generous);
        var registry = _app.Services.GetRequiredService<WorkerRegistry>();
        await WaitUntilAsync(registry, () => registry.Find(hello.WorkerId.ToString("N")) is null);
    }

    [Fact]
    public async Task Worker_keys_are_for_admins_only()
    {
        var member = StudioAppFactory.PrincipalOf(await _app.CreateUserAsync("not-an-admin@example.test"));
        var keys = _app.Services.GetRequiredService<WorkerKeyService>();

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => keys.ListAsync(member));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => keys.CreateAsync(member, "sneaky"));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => keys.RevokeAsync(member, Guid.NewGuid()));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => keys.ListAsync(new ClaimsPrincipal(new ClaimsIdentity())));
    }

    [Fact]
    public async Task A_key_name_is_required_and_unique()
    {
        var admin = StudioAppFactory.PrincipalOf(await JobSafetyTests.MakeAdminAsync(_app, "namer@example.test"));
        var keys = _app.Services.GetRequiredService<WorkerKeyService>();

        Assert.False((await keys.CreateAsync(admin, "   ")).Succeeded);
        Assert.True((await keys.CreateAsync(admin, "twin")).Succeeded);
        Assert.False((await keys.CreateAsync(admin, "twin")).Succeeded);
    }

    [Fact]
    public async Task A_worker_cannot_report_on_a_job_it_does_not_hold()
    {
        await using var connection = Connect(WorkerHubFixture.ConfiguredKey);
        await connection.StartAsync();
        await connection.InvokeAsync<WorkerWelcome>(WorkerHubNames.Hello, Hello("liar"));
        var jobId = Guid.NewGuid();
        var leaseId = Guid.NewGuid();

        Assert.False(await connection.InvokeAsync<bool>(WorkerHubNames.Progress, jobId, leaseId, 1, 4, (byte[]?)null));
        Assert.False(await connection.InvokeAsync<bool>(WorkerHubNames.Heartbeat, jobId, leaseId));
        var upload = await connection.InvokeAsync<DeliveryReceipt>(WorkerHubNames.UploadImage, jobId, leaseId, 0, 42UL, Chunks([0x89, 0x50, 0x4E, 0x47]));
        Assert.False(upload.Accepted);
        var complete = await connection.InvokeAsync<DeliveryReceipt>(WorkerHubNames.Complete, jobId, leaseId, "hash");
        Assert.False(complete.Accepted);
        Assert.False(await connection.InvokeAsync<bool>(WorkerHubNames.Fail, jobId, leaseId, "made up", 1));
        Assert.False(await connection.InvokeAsync<bool>(WorkerHubNames.Stopped, jobId, leaseId, 1));
        Assert.False(await connection.InvokeAsync<bool>(WorkerHubNames.Release, jobId, leaseId));
        Assert.Empty(await connection.InvokeAsync<JobAssignment[]>(WorkerHubNames.JoinBatch, jobId, leaseId, 8));
    }

    [Fact]
    public async Task A_worker_must_say_hello_before_it_reports()
    {
        await using var connection = Connect(WorkerHubFixture.ConfiguredKey);
        await connection.StartAsync();

        var error = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync<bool>(WorkerHubNames.Heartbeat, Guid.NewGuid(), Guid.NewGuid()));

        Assert.Contains("Hello", error.Message, StringComparison.Ordinal);
    }

    private static WorkerHello Hello(string name) => new(Guid.NewGuid(), name, "cpu", 1L << 30, ["tiny"], "test");

    private HubConnection Connect(string key)
    {
        var server = _app.Server;
        return new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, WorkerHubNames.Path), options =>
            {
                options.HttpMessageHandlerFactory = _ => server.CreateHandler();
                options.Transports = HttpTransportType.LongPolling;
                options.AccessTokenProvider = () => Task.FromResult<string?>(key);
            })
            .Build();
    }

    private async Task<HttpResponseMessage> NegotiateAsync(string? key)
    {
        using var client = _app.CreateBrowserlikeClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(WorkerHubNames.Path + "/negotiate?negotiateVersion=1", UriKind.Relative));
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return await client.SendAsync(request);
    }

    private static async IAsyncEnumerable<byte[]> Chunks(byte[] bytes)
    {
        await Task.Yield();
        yield return bytes;
    }

    /// <summary>Waits for the registry to say something changed until <paramref name="condition"/> holds.</summary>
    private static async Task WaitUntilAsync(WorkerRegistry registry, Func<bool> condition)
    {
        var met = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = registry.Subscribe(() =>
        {
            if (condition())
            {
                met.TrySetResult();
            }
            return Task.CompletedTask;
        });
        if (condition())
        {
            return;
        }
        await met.Task.WaitAsync(Generous);
    }
}

using System.Net;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>/admin/workers through the real app: its policy, and its first render from the real registry.</summary>
public sealed class AdminWorkersAccessTests(StudioAppFixture app) : IClassFixture<StudioAppFixture>
{
    [Fact]
    public async Task A_member_is_sent_to_access_denied_from_the_workers_page()
    {
        await app.Factory.CreateUserAsync("workers-member@example.test");
        using var client = app.Factory.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, "workers-member@example.test", TestAccounts.Password)).StatusCode);

        var response = await client.GetAsync(new Uri("/admin/workers", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/AccessDenied", response.Headers.Location?.AbsolutePath);
    }

    [Fact]
    public async Task An_admin_sees_the_workers_connected_to_the_node()
    {
        await JobSafetyTests.MakeAdminAsync(app.Factory, "workers-admin@example.test");
        var registry = app.Factory.Services.GetRequiredService<WorkerRegistry>();
        var session = registry.Join(new WorkerHello(Guid.NewGuid(), "integration-gpu", "cuda:7", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);
        try
        {
            using var client = app.Factory.CreateBrowserlikeClient();
            Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, "workers-admin@example.test", TestAccounts.Password)).StatusCode);

            var response = await client.GetAsync(new Uri("/admin/workers", UriKind.Relative));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("<title>Workers · Admin · T2I Studio</title>", html, StringComparison.Ordinal);
            Assert.Contains("aria-label=\"Workers\"", html, StringComparison.Ordinal);
            Assert.Matches("<th scope=\"row\"[^>]*>integration-gpu</th>", html);
            Assert.Contains("cuda:7", html, StringComparison.Ordinal);
        }
        finally
        {
            registry.Leave(session, "test over");
        }
    }
}

using System.Net;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

public sealed class RestartTests
{
    [Fact]
    public async Task A_sign_in_cookie_still_works_after_the_app_restarts_on_the_same_storage()
    {
        using var first = new StudioAppFactory();
        await first.CreateUserAsync("restart@example.test");
        string cookie;
        using (var client = first.CreateBrowserlikeClient())
        {
            var signIn = await TestAccounts.SignInAsync(client, "restart@example.test", TestAccounts.Password);
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("T2IStudio.Auth=", StringComparison.Ordinal)).Split(';')[0];
        }
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(first.StorageRoot, "keys"), "key-*.xml"));

        using var second = new StudioAppFactory(first.StorageRoot);
        using var restarted = second.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/gallery");
        request.Headers.Add("Cookie", cookie);
        var response = await restarted.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

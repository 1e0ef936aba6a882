using System.Net;
using Microsoft.AspNetCore.Hosting;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>The app as it runs in Production (no developer exception page): what a person gets for a request it cannot take.</summary>
public sealed class ProductionPagesTests : IDisposable
{
    private readonly ProductionApp _app = new();

    [Fact]
    public async Task A_page_request_that_cannot_be_bound_gets_the_not_found_page_with_400_not_a_blank_answer()
    {
        var user = await _app.CreateUserAsync("prod@pages.test");
        using var browser = _app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(browser, user.Email!, TestAccounts.Password)).StatusCode);

        var response = await browser.GetAsync(new Uri($"/images/{Guid.NewGuid()}?download=perhaps", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("T2I Studio", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_api_request_that_cannot_be_bound_still_gets_a_problem_naming_the_field()
    {
        var user = await _app.CreateUserAsync("prod@api.test");
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user));

        var response = await client.GetAsync(new Uri("/sdapi/v1/progress?skip_current_image=perhaps", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"skip_current_image\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    public void Dispose() => _app.Dispose();

    private sealed class ProductionApp : StudioAppFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
        }
    }
}

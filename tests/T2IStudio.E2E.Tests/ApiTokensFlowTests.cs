using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// Account → API tokens in a browser: a token made on the page authenticates the API as its maker until it is
/// revoked on the same page. A server of its own, so its first account is the admin.
/// </summary>
public sealed class ApiTokensFlowTests(StudioServer server) : IClassFixture<StudioServer>
{
    private const string Email = "tokens@example.test";

    [Fact]
    public async Task A_token_made_on_the_page_authenticates_the_API_until_it_is_revoked_there()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, Email);
        await ApiTokenPages.OpenFromAccountMenuAsync(page, "tokens");
        await Assertions.Expect(page.GetByText("No API tokens yet.", new() { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Read the API reference" })).ToHaveAttributeAsync("href", "/api-docs");

        var secret = await ApiTokenPages.CreateAsync(page, "ci", "Read and generate");
        var row = ApiTokenPages.Row(page, "ci");
        await Assertions.Expect(row.Locator("td[data-label='Scope']")).ToHaveTextAsync("Read and generate");
        await Assertions.Expect(row.Locator("td[data-label='Last used']")).ToHaveTextAsync("never");
        await Assertions.Expect(page.GetByText("will not be shown again", new() { Exact = false })).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(page, "api-tokens");
        await ScreenshotAtPhoneWidthAsync();

        using var api = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        using (var me = await GetMeAsync(api, secret))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            using var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync());
            Assert.Equal(Email, body.RootElement.GetProperty("email").GetString());
            Assert.Equal("ReadAndGenerate", body.RootElement.GetProperty("scope").GetString());
        }

        // Revoke asks first; then the row says so and the same call is refused.
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke token ci", Exact = true }).ClickAsync();
        var confirm = page.GetByRole(AriaRole.Dialog);
        await Assertions.Expect(confirm).ToContainTextAsync("Revoke \"ci\"?");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();
        await Assertions.Expect(row.Locator("td[data-label='Status']")).ToHaveTextAsync("Revoked");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Revoke token ci", Exact = true })).ToHaveCountAsync(0);
        // The secret went with the revoke: it is never on the page again.
        await Assertions.Expect(page.GetByRole(AriaRole.Textbox, new() { Name = "Your new token", Exact = true })).ToHaveCountAsync(0);

        using (var refused = await GetMeAsync(api, secret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }

    private static async Task<HttpResponseMessage> GetMeAsync(HttpClient api, string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return await api.SendAsync(request);
    }

    /// <summary>
    /// The page at phone width, reached from Your account, for a person to look at: the form stacks and nothing
    /// scrolls sideways.
    /// </summary>
    private async Task ScreenshotAtPhoneWidthAsync()
    {
        var phone = await server.NewPageAsync(390, 844);
        await StudioPages.SignInAsync(phone, Email);
        await phone.GotoAsync("/Account/Manage");
        await phone.GetByRole(AriaRole.Link, new() { Name = "API tokens", Exact = true }).ClickAsync();
        await Assertions.Expect(phone.GetByRole(AriaRole.Heading, new() { Name = "API tokens", Exact = true, Level = 1 })).ToBeVisibleAsync();
        await StudioPages.WaitForInteractiveAsync(phone);
        await Assertions.Expect(phone.GetByRole(AriaRole.Button, new() { Name = "Revoke token ci", Exact = true })).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(phone, "api-tokens-phone");
        Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "The API tokens page scrolls sideways at 390 px.");
        await phone.Context.CloseAsync();
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// A job submitted through the API is the same job as one from Create: it joins the same queue and lands in its
/// owner's gallery, live, on a page that is already open.
/// </summary>
public sealed class ApiLiveGalleryTests(StudioServer server) : IClassFixture<StudioServer>
{
    [Fact]
    public async Task An_image_generated_through_the_api_appears_live_in_the_open_gallery()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "live-api@example.test");
        await ApiTokenPages.OpenFromAccountMenuAsync(page, "live-api");
        var secret = await ApiTokenPages.CreateAsync(page, "script", "Read and generate");
        await page.GetByRole(AriaRole.Link, new() { Name = "Gallery", Exact = true }).ClickAsync();
        await StudioPages.WaitForInteractiveAsync(page);
        await Assertions.Expect(page.GetByText("No images yet — create one", new() { Exact = true })).ToBeVisibleAsync();

        using var api = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs/txt2img")
        {
            Content = new StringContent("""{"model":"t2istudio-tiny","prompt":"a blue square from a script","steps":3,"width":64,"height":64,"seed":7}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var submitted = await api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);

        // No reload: the gallery hears the job complete, as it does for one from Create.
        await Assertions.Expect(page.GetByTestId("gallery-count")).ToHaveTextAsync("1 image", new() { Timeout = 120_000 });
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Open image: a blue square from a script", Exact = true })).ToBeVisibleAsync();
    }
}

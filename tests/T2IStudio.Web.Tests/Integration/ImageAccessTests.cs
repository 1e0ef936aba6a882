using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Prompts;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>Images, thumbnails, jobs and prompts answer their owner and read as missing to everyone else.</summary>
public class ImageAccessTests : IClassFixture<ImageAccessTests.TwoUsers>
{
    private readonly TwoUsers _world;

    public ImageAccessTests(TwoUsers world) => _world = world;

    /// <summary>Alice has made one image; Bob has an account and nothing else.</summary>
    public class TwoUsers : IAsyncLifetime
    {
        /// <summary>On SQLite.</summary>
        public TwoUsers()
            : this(new StudioAppFactory())
        {
        }

        /// <summary>On the given app (another engine).</summary>
        protected TwoUsers(StudioAppFactory app) => App = app;

        public StudioAppFactory App { get; }

        public AppUser Alice { get; private set; } = null!;

        public AppUser Bob { get; private set; } = null!;

        public JobView Job { get; private set; } = null!;

        public GeneratedImage Image { get; private set; } = null!;

        public Guid PromptId { get; private set; }

        public async Task InitializeAsync()
        {
            Alice = await App.CreateUserAsync("alice@example.test");
            Bob = await App.CreateUserAsync("bob@example.test");
            var (jobId, _) = await App.GenerateAsync(Alice, GenerationQueueTests.Request(prompt: "a green triangle, (bright:1.2)"));
            using var scope = App.Services.CreateScope();
            var alice = StudioAppFactory.PrincipalOf(Alice);
            Job = (await scope.ServiceProvider.GetRequiredService<GenerationService>().GetJobAsync(alice, jobId))!;
            Image = (await scope.ServiceProvider.GetRequiredService<ImageLibrary>().GetAsync(alice, Job.ImageIds[0]))!;
            PromptId = (await scope.ServiceProvider.GetRequiredService<PromptHistory>().SearchAsync(alice, "green")).Single().Id;
        }

        public Task DisposeAsync()
        {
            App.Dispose();
            return Task.CompletedTask;
        }

        public async Task<HttpClient> SignedInAsync(AppUser user)
        {
            var client = App.CreateBrowserlikeClient();
            var response = await TestAccounts.SignInAsync(client, user.Email!, TestAccounts.Password);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            return client;
        }
    }

    private IEnumerable<string> AlicesUrls() =>
    [
        $"/images/{_world.Image.Id}",
        $"/images/{_world.Image.Id}?download=true",
        $"/images/{_world.Image.Id}/thumb",
    ];

    [Fact]
    public async Task Another_user_gets_404_for_each_of_alices_ids_and_so_does_a_made_up_id()
    {
        using var bob = await _world.SignedInAsync(_world.Bob);
        foreach (var url in AlicesUrls().Append($"/images/{Guid.NewGuid()}"))
        {
            var response = await bob.GetAsync(new Uri(url, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url} answered {(int)response.StatusCode}");
        }
        using var bobsToken = _world.App.CreateApiClient(await _world.App.CreateTokenAsync(_world.Bob));
        foreach (var url in new[] { $"/api/v1/jobs/{_world.Job.Id}", $"/api/v1/jobs/{Guid.NewGuid()}" })
        {
            var response = await bobsToken.GetAsync(new Uri(url, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url} answered {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task Signed_out_requests_are_sent_to_sign_in()
    {
        using var anonymous = _world.App.CreateBrowserlikeClient();
        foreach (var url in AlicesUrls())
        {
            var response = await anonymous.GetAsync(new Uri(url, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/Account/Login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Another_users_service_calls_see_nothing_and_change_nothing()
    {
        using var scope = _world.App.Services.CreateScope();
        var bob = StudioAppFactory.PrincipalOf(_world.Bob);
        var services = scope.ServiceProvider;
        Assert.Null(await services.GetRequiredService<GenerationService>().GetJobAsync(bob, _world.Job.Id));
        Assert.Equal(CancelOutcome.NotFound, await services.GetRequiredService<GenerationService>().CancelAsync(bob, _world.Job.Id));
        Assert.Null(await services.GetRequiredService<ImageLibrary>().GetAsync(bob, _world.Image.Id));
        Assert.False(await services.GetRequiredService<ImageLibrary>().SetFavoriteAsync(bob, _world.Image.Id, true));
        Assert.False(await services.GetRequiredService<ImageLibrary>().DeleteAsync(bob, _world.Image.Id));
        Assert.Null(await services.GetRequiredService<PromptHistory>().GetAsync(bob, _world.PromptId));
        Assert.False(await services.GetRequiredService<PromptHistory>().DeleteAsync(bob, _world.PromptId));
        Assert.Empty((await services.GetRequiredService<ImageLibrary>().PageAsync(bob, new GalleryFilter(), 0, 50)).Tiles);
        Assert.Empty(await services.GetRequiredService<PromptHistory>().SearchAsync(bob, null));
        Assert.NotNull(await services.GetRequiredService<ImageLibrary>().GetAsync(StudioAppFactory.PrincipalOf(_world.Alice), _world.Image.Id));
    }

    [Fact]
    public async Task The_owner_gets_the_png_with_an_etag_a_long_private_cache_nosniff_and_a_304_when_unchanged()
    {
        using var alice = await _world.SignedInAsync(_world.Alice);
        var response = await alice.GetAsync(new Uri($"/images/{_world.Image.Id}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(_world.Image.SizeBytes, bytes.Length);
        Assert.Equal($"\"{_world.Image.Sha256}\"", response.Headers.ETag?.Tag);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("immutable", response.Headers.CacheControl!.Extensions.Select(e => e.Name));
        Assert.True(response.Headers.CacheControl.Private);
        Assert.Equal("inline", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Contains("parameters", Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/images/{_world.Image.Id}");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{_world.Image.Sha256}\""));
        Assert.Equal(HttpStatusCode.NotModified, (await alice.SendAsync(conditional)).StatusCode);

        var download = await alice.GetAsync(new Uri($"/images/{_world.Image.Id}?download=true", UriKind.Relative));
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal($"t2i-a-green-triangle-bright12-{_world.Image.Seed}.png", download.Content.Headers.ContentDisposition?.FileNameStar);

        var thumb = await alice.GetAsync(new Uri($"/images/{_world.Image.Id}/thumb", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, thumb.StatusCode);
        Assert.Equal("image/webp", thumb.Content.Headers.ContentType?.MediaType);

        using var alicesToken = _world.App.CreateApiClient(await _world.App.CreateTokenAsync(_world.Alice));
        var job = await alicesToken.GetStringAsync(new Uri($"/api/v1/jobs/{_world.Job.Id}", UriKind.Relative));
        Assert.Contains("\"status\":\"Completed\"", job, StringComparison.Ordinal);
        Assert.Contains($"/api/v1/images/{_world.Image.Id}/png", job, StringComparison.Ordinal);
    }
}

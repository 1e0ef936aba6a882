using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// Who may do what with each id: every id-bearing route and component action × (owner, editor, viewer,
/// non-member, anonymous). Non-members get 404, never 403. A new id-bearing route fails this test until it is
/// added to the matrix.
/// </summary>
public sealed class AccessMatrixTests : IClassFixture<AccessMatrixTests.World>
{
    private const int Ok = 200;
    private const int Missing = 404;
    private const int SignIn = 302;
    private readonly World _world;

    public AccessMatrixTests(World world) => _world = world;

    public enum Who
    {
        Owner,
        Editor,
        Viewer,
        Outsider,
        Anonymous,
    }

    /// <summary>A team (owner, editor, viewer) with a gallery holding one of the owner's images, plus a private image, a job into the gallery and a prompt.</summary>
    public sealed class World : IAsyncLifetime
    {
        public StudioAppFactory App { get; } = new();

        public Dictionary<Who, AppUser> Users { get; } = [];

        public Dictionary<Who, HttpClient> Clients { get; } = [];

        public Guid TeamId { get; private set; }

        public Guid GalleryId { get; private set; }

        public Guid SharedImage { get; private set; }

        public Guid PrivateImage { get; private set; }

        public Guid TeamJob { get; private set; }

        public Guid PromptId { get; private set; }

        public async Task InitializeAsync()
        {
            foreach (var who in new[] { Who.Owner, Who.Editor, Who.Viewer, Who.Outsider })
            {
                Users[who] = await App.CreateUserAsync($"{who.ToString().ToLowerInvariant()}@matrix.test");
            }
            using var scope = App.Services.CreateScope();
            var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
            var owner = StudioAppFactory.PrincipalOf(Users[Who.Owner]);
            TeamId = (await teams.CreateAsync(owner, "Matrix")).Id!.Value;
            await teams.JoinByInvitationAsync(owner, TeamId, Users[Who.Editor], TeamRole.Editor);
            await teams.JoinByInvitationAsync(owner, TeamId, Users[Who.Viewer], TeamRole.Viewer);
            GalleryId = (await scope.ServiceProvider.GetRequiredService<GalleryService>().CreateAsync(owner, "Shared", TeamId)).Id!.Value;
            (TeamJob, var shared) = await App.GenerateAsync(Users[Who.Owner], GenerationQueueTests.Request(prompt: "shared", steps: 2) with { GalleryId = GalleryId });
            SharedImage = shared.Single();
            PrivateImage = (await App.GenerateAsync(Users[Who.Owner], GenerationQueueTests.Request(prompt: "private", steps: 2))).ImageIds.Single();
            await using var db = await App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            PromptId = await db.Prompts.Where(p => p.OwnerId == Users[Who.Owner].Id && p.Text == "private").Select(p => p.Id).SingleAsync();

            foreach (var (who, user) in Users)
            {
                var client = App.CreateBrowserlikeClient();
                Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, user.Email!, TestAccounts.Password)).StatusCode);
                Clients[who] = client;
            }
            Clients[Who.Anonymous] = App.CreateBrowserlikeClient();
        }

        public Task DisposeAsync()
        {
            foreach (var client in Clients.Values)
            {
                client.Dispose();
            }
            App.Dispose();
            return Task.CompletedTask;
        }
    }

    /// <summary>Each id-bearing route (as the route table or a page's query names it), a URL for it, and the answer per person.</summary>
    private IEnumerable<(string Route, string Url, int[] Expected)> Routes() =>
    [
        //                                                                     owner editor viewer outsider anonymous
        ("/images/{id:guid}", $"/images/{_world.SharedImage}", [Ok, Ok, Ok, Missing, SignIn]),
        ("/images/{id:guid}", $"/images/{_world.SharedImage}?download=true", [Ok, Ok, Ok, Missing, SignIn]),
        ("/images/{id:guid}", $"/images/{_world.PrivateImage}", [Ok, Missing, Missing, Missing, SignIn]),
        ("/images/{id:guid}/thumb", $"/images/{_world.SharedImage}/thumb", [Ok, Ok, Ok, Missing, SignIn]),
        ("/images/{id:guid}/thumb", $"/images/{_world.PrivateImage}/thumb", [Ok, Missing, Missing, Missing, SignIn]),
        ("/api/jobs/{id:guid}", $"/api/jobs/{_world.TeamJob}", [Ok, Ok, Ok, Missing, SignIn]),
        ("/api/prompts/{id:guid}", $"/api/prompts/{_world.PromptId}", [Ok, Missing, Missing, Missing, SignIn]),
        ("/teams/{TeamId:guid}", $"/teams/{_world.TeamId}", [Ok, Ok, Ok, Missing, SignIn]),
        ("/gallery?g", $"/gallery?g={_world.GalleryId}", [Ok, Ok, Ok, Missing, SignIn]),
        ("/inpaint?image", $"/inpaint?image={_world.SharedImage}", [Ok, Ok, Ok, Missing, SignIn]),
        ("/inpaint?image", $"/inpaint?image={_world.PrivateImage}", [Ok, Missing, Missing, Missing, SignIn]),
        ("/create?from", $"/create?from={_world.PrivateImage}", [Ok, Missing, Missing, Missing, SignIn]),
        ("/create?from", $"/create?from={_world.SharedImage}", [Ok, Ok, Ok, Missing, SignIn]),
    ];

    [Fact]
    public async Task Every_id_bearing_route_answers_each_person_as_the_matrix_says()
    {
        var wrong = new List<string>();
        foreach (var (_, url, expected) in Routes())
        {
            foreach (var who in Enum.GetValues<Who>())
            {
                var status = (int)(await _world.Clients[who].GetAsync(new Uri(url, UriKind.Relative))).StatusCode;
                if (status != expected[(int)who])
                {
                    wrong.Add($"{url} as {who}: {status}, expected {expected[(int)who]}");
                }
            }
        }
        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    [Fact]
    public void Every_id_bearing_route_of_the_app_is_in_the_matrix()
    {
        var endpoints = _world.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.Parameters.Any(p => p.ParameterKind == Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterKind.Standard
                && !p.Name.Equals("path", StringComparison.OrdinalIgnoreCase) && !p.Name.StartsWith("**", StringComparison.Ordinal)))
            .Where(e => !e.RoutePattern.RawText!.StartsWith("/_", StringComparison.Ordinal) && !e.RoutePattern.RawText.Contains("{**", StringComparison.Ordinal))
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'));
        // Pages that take an id in their query string.
        var queryPages = typeof(T2IStudio.Web.StudioWebExtensions).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (Type: t, Route: r.Template)))
            .SelectMany(p => p.Type.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                .Where(prop => prop.GetCustomAttribute<SupplyParameterFromQueryAttribute>() is not null && (prop.PropertyType == typeof(Guid) || prop.PropertyType == typeof(Guid?)))
                .Select(prop => $"{p.Route}?{prop.GetCustomAttribute<SupplyParameterFromQueryAttribute>()!.Name ?? prop.Name}"));
        var found = endpoints.Concat(queryPages).Distinct().ToList();
        // The scan itself works: it sees an endpoint route, a page route and a page's query id.
        Assert.Contains("/images/{id:guid}", found);
        Assert.Contains("/teams/{TeamId:guid}", found);
        Assert.Contains("/inpaint?image", found);
        var inMatrix = Routes().Select(r => r.Route).ToHashSet(StringComparer.OrdinalIgnoreCase);
        // "/" and "/create" are one page; the matrix lists it once, as /create.
        var missing = found.Where(r => !inMatrix.Contains(r) && r != "/?from").Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "Id-bearing routes missing from the access matrix: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task Component_actions_by_role_delete_favourite_cancel_add_remove_inpaint_and_manage_members()
    {
        using var scope = _world.App.Services.CreateScope();
        var services = scope.ServiceProvider;
        var library = services.GetRequiredService<ImageLibrary>();
        var galleries = services.GetRequiredService<GalleryService>();
        var generation = services.GetRequiredService<GenerationService>();
        var teams = services.GetRequiredService<TeamService>();
        var mask = MaskFiles.Encode(new GrayMask(64, 64, Enumerable.Repeat((byte)255, 64 * 64).ToArray()));
        System.Security.Claims.ClaimsPrincipal As(Who who) => StudioAppFactory.PrincipalOf(_world.Users[who]);

        foreach (var who in new[] { Who.Editor, Who.Viewer, Who.Outsider })
        {
            Assert.False(await library.DeleteAsync(As(who), _world.SharedImage), $"{who} deleted");
            Assert.Equal(CancelOutcome.NotFound, await generation.CancelAsync(As(who), _world.TeamJob));
            Assert.False((await teams.InviteAsync(As(who), _world.TeamId, "x@matrix.test", TeamRole.Viewer)).Succeeded, $"{who} managed members");
        }
        // Stars are each person's own: readers star what they see, outsiders cannot.
        Assert.True(await library.SetFavoriteAsync(As(Who.Viewer), _world.SharedImage, true));
        Assert.True(await library.IsFavoriteAsync(As(Who.Viewer), _world.SharedImage));
        Assert.False(await library.IsFavoriteAsync(As(Who.Owner), _world.SharedImage));
        Assert.False(await library.SetFavoriteAsync(As(Who.Outsider), _world.SharedImage, true));
        Assert.True(await library.SetFavoriteAsync(As(Who.Viewer), _world.SharedImage, false));

        // Use as an inpainting source: readers may (the result is theirs); outsiders see nothing.
        var inpaint = new InpaintJobRequest { Model = "t2istudio-tiny", SourceImageId = _world.SharedImage, MaskPng = mask, Request = GenerationQueueTests.Request(steps: 1).Request };
        var viewerInpaint = await generation.SubmitInpaintAsync(As(Who.Viewer), inpaint);
        Assert.True(viewerInpaint.Succeeded, string.Join(" ", viewerInpaint.Errors));
        await generation.CancelAsync(As(Who.Viewer), viewerInpaint.JobId!.Value);
        Assert.Equal(["That image is not available."], (await generation.SubmitInpaintAsync(As(Who.Outsider), inpaint)).Errors);
        // Comments: owner and editors write, viewers read, outsiders see nothing.
        var comments = services.GetRequiredService<T2IStudio.Web.Comments.CommentService>();
        Assert.True((await comments.AddAsync(As(Who.Owner), _world.SharedImage, "owner's note")).Succeeded);
        Assert.True((await comments.AddAsync(As(Who.Editor), _world.SharedImage, "editor's note")).Succeeded);
        Assert.Equal(["Viewers cannot comment here."], (await comments.AddAsync(As(Who.Viewer), _world.SharedImage, "viewer's note")).Errors);
        Assert.True((await comments.AddAsync(As(Who.Outsider), _world.SharedImage, "outsider's note")).NotFound);
        Assert.Equal(2, (await comments.ListAsync(As(Who.Viewer), _world.SharedImage)).Count);
        Assert.Empty(await comments.ListAsync(As(Who.Outsider), _world.SharedImage));
        // Rename and delete a gallery: its owners only.
        foreach (var who in new[] { Who.Editor, Who.Viewer })
        {
            Assert.False((await galleries.RenameAsync(As(who), _world.GalleryId, "taken")).Succeeded, $"{who} renamed");
            Assert.False((await galleries.DeleteAsync(As(who), _world.GalleryId)).Succeeded, $"{who} deleted the gallery");
        }
        Assert.True((await galleries.RenameAsync(As(Who.Outsider), _world.GalleryId, "taken")).NotFound);
        Assert.True((await galleries.RenameAsync(As(Who.Owner), _world.GalleryId, "Shared")).Succeeded);

        // Gallery items: editors and owners add their own and remove; viewers and outsiders cannot.
        Assert.Equal(["Viewers cannot remove images from this gallery."], (await galleries.RemoveAsync(As(Who.Viewer), _world.GalleryId, _world.SharedImage)).Errors);
        Assert.True((await galleries.RemoveAsync(As(Who.Outsider), _world.GalleryId, _world.SharedImage)).NotFound);
        Assert.True((await galleries.AddAsync(As(Who.Outsider), _world.GalleryId, _world.PrivateImage)).NotFound);
        Assert.True((await galleries.AddAsync(As(Who.Owner), _world.GalleryId, _world.PrivateImage)).Succeeded);
        Assert.True((await galleries.RemoveAsync(As(Who.Editor), _world.GalleryId, _world.PrivateImage)).Succeeded);
        Assert.Null(await library.GetAsync(As(Who.Viewer), _world.PrivateImage));
    }
}

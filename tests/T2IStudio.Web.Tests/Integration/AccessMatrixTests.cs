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
/// added to the matrix. Pages and file routes are asked with each person's cookie; <c>/api/v1</c> with each
/// person's token (and no token for the anonymous), one row per HTTP method.
/// </summary>
public sealed class AccessMatrixTests : IClassFixture<AccessMatrixTests.World>
{
    private const int Ok = 200;
    private const int Done = 204;
    private const int SignIn = 302;
    private const int NoToken = 401;
    private const int Forbidden = 403;
    private const int Missing = 404;

    /// <summary>Not checked: what the owner gets is another test's business (see the row).</summary>
    private const int Unchecked = -1;
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

    /// <summary>
    /// A team (owner, editor, viewer) with a gallery holding one of the owner's images, plus a private image, a job
    /// into the gallery and a prompt; a cookie client and an API client (a token of each person, none for the
    /// anonymous) per person.
    /// </summary>
    public sealed class World : IAsyncLifetime
    {
        public StudioAppFactory App { get; } = new();

        public Dictionary<Who, AppUser> Users { get; } = [];

        public Dictionary<Who, HttpClient> Clients { get; } = [];

        public Dictionary<Who, HttpClient> ApiClients { get; } = [];

        /// <summary>The owner with a token of the Read scope only.</summary>
        public HttpClient OwnerReadOnly { get; private set; } = null!;

        /// <summary>An owner's image that the matrix adds to the gallery and takes out again.</summary>
        public Guid SpareImage { get; private set; }

        /// <summary>An owner's image in the gallery that the matrix deletes (last, as the owner).</summary>
        public Guid DoomedImage { get; private set; }

        public Guid TeamId { get; private set; }

        public Guid GalleryId { get; private set; }

        public Guid SharedImage { get; private set; }

        public Guid PrivateImage { get; private set; }

        public Guid TeamJob { get; private set; }

        public Guid PromptId { get; private set; }

        /// <summary>The owner's invitation to someone who is none of the matrix's people.</summary>
        public Guid InvitationId { get; private set; }

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
            Assert.True((await teams.InviteAsync(owner, TeamId, "invitee@matrix.test", TeamRole.Editor)).Succeeded);
            (TeamJob, var shared) = await App.GenerateAsync(Users[Who.Owner], GenerationQueueTests.Request(prompt: "shared", steps: 2) with { GalleryId = GalleryId });
            SharedImage = shared.Single();
            PrivateImage = (await App.GenerateAsync(Users[Who.Owner], GenerationQueueTests.Request(prompt: "private", steps: 2))).ImageIds.Single();
            SpareImage = (await App.GenerateAsync(Users[Who.Owner], GenerationQueueTests.Request(prompt: "spare", steps: 2))).ImageIds.Single();
            DoomedImage = (await App.GenerateAsync(Users[Who.Owner], GenerationQueueTests.Request(prompt: "doomed", steps: 2) with { GalleryId = GalleryId })).ImageIds.Single();
            await using var db = await App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            InvitationId = await db.TeamInvitations.Where(i => i.TeamId == TeamId).Select(i => i.Id).SingleAsync();
            PromptId = await db.Prompts.Where(p => p.OwnerId == Users[Who.Owner].Id && p.Text == "private").Select(p => p.Id).SingleAsync();

            foreach (var (who, user) in Users)
            {
                var client = App.CreateBrowserlikeClient();
                Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, user.Email!, TestAccounts.Password)).StatusCode);
                Clients[who] = client;
            }
            Clients[Who.Anonymous] = App.CreateBrowserlikeClient();
            foreach (var (who, user) in Users)
            {
                ApiClients[who] = App.CreateApiClient(await App.CreateTokenAsync(user, name: $"matrix {who}"));
            }
            ApiClients[Who.Anonymous] = App.CreateApiClient(null);
            OwnerReadOnly = App.CreateApiClient(await App.CreateTokenAsync(Users[Who.Owner], ApiTokenScope.Read, name: "matrix read-only"));
        }

        public Task DisposeAsync()
        {
            foreach (var client in Clients.Values.Concat(ApiClients.Values).Append(OwnerReadOnly))
            {
                client?.Dispose();
            }
            App.Dispose();
            return Task.CompletedTask;
        }
    }

    /// <summary>One id-bearing route (as the route table or a page's query names it), a URL for it, and the answer per person.</summary>
    /// <param name="Route">The route as the scan finds it.</param>
    /// <param name="Url">A URL of it, with ids of the world.</param>
    /// <param name="Expected">The status per <see cref="Who"/> (owner, editor, viewer, outsider, anonymous).</param>
    /// <param name="Method">The HTTP method.</param>
    public sealed record Row(string Route, string Url, int[] Expected, string Method = "GET")
    {
        /// <summary>Asked with tokens, not cookies.</summary>
        public bool IsApi => Url.StartsWith(ApiPrefix, StringComparison.Ordinal);

        /// <summary>How the scan names it: API routes with their method, since one path has several.</summary>
        public string Key => IsApi ? $"{Method} {Route}" : Route;
    }

    private const string ApiPrefix = "/api/v1/";
    private const string A1111Prefix = "/sdapi/v1/";

    /// <summary>
    /// Every id-bearing route with the answer per person. Each row is asked as anonymous, outsider, viewer, editor
    /// and then owner, so a change the owner may make (delete, add) comes after everyone else was refused.
    /// </summary>
    private IEnumerable<Row> Routes()
    {
        var shared = _world.SharedImage;
        var own = _world.PrivateImage;
        var gallery = _world.GalleryId;
        var job = _world.TeamJob;
        return
        [
            //                                                                     owner editor viewer outsider anonymous
            new("/images/{id:guid}", $"/images/{shared}", [Ok, Ok, Ok, Missing, SignIn]),
            new("/images/{id:guid}", $"/images/{shared}?download=true", [Ok, Ok, Ok, Missing, SignIn]),
            new("/images/{id:guid}", $"/images/{own}", [Ok, Missing, Missing, Missing, SignIn]),
            new("/images/{id:guid}/thumb", $"/images/{shared}/thumb", [Ok, Ok, Ok, Missing, SignIn]),
            new("/images/{id:guid}/thumb", $"/images/{own}/thumb", [Ok, Missing, Missing, Missing, SignIn]),
            new("/teams/{TeamId:guid}", $"/teams/{_world.TeamId}", [Ok, Ok, Ok, Missing, SignIn]),
            new("/gallery?g", $"/gallery?g={gallery}", [Ok, Ok, Ok, Missing, SignIn]),
            // An invitation's link: the Teams page lists only the invitations to the person's own address, so someone
            // else's id shows nothing of it (see A_stranger_opening_someone_elses_invitation_sees_nothing_of_it).
            new("/teams?invitation", $"/teams?invitation={_world.InvitationId}", [Ok, Ok, Ok, Ok, SignIn]),
            // An image to open at once (links from notifications and the activity feed): 404 for an image the person may not see.
            new("/gallery?image", $"/gallery?g={gallery}&image={shared}", [Ok, Ok, Ok, Missing, SignIn]),
            new("/gallery?image", $"/gallery?image={own}", [Ok, Missing, Missing, Missing, SignIn]),
            // "Download approved": anyone who sees the gallery (a ZIP, empty but for the CSV header when nothing is approved).
            new("/galleries/{galleryId:guid}/approved.zip", $"/galleries/{gallery}/approved.zip", [Ok, Ok, Ok, Missing, SignIn]),
            new("/inpaint?image", $"/inpaint?image={shared}", [Ok, Ok, Ok, Missing, SignIn]),
            new("/inpaint?image", $"/inpaint?image={own}", [Ok, Missing, Missing, Missing, SignIn]),
            new("/create?from", $"/create?from={own}", [Ok, Missing, Missing, Missing, SignIn]),
            new("/create?from", $"/create?from={shared}", [Ok, Ok, Ok, Missing, SignIn]),

            // The API, with tokens: reading what a team shares, and nothing of anyone else's.
            new("/api/v1/images/{id:guid}", $"/api/v1/images/{shared}", [Ok, Ok, Ok, Missing, NoToken]),
            new("/api/v1/images/{id:guid}", $"/api/v1/images/{own}", [Ok, Missing, Missing, Missing, NoToken]),
            new("/api/v1/images/{id:guid}/png", $"/api/v1/images/{shared}/png", [Ok, Ok, Ok, Missing, NoToken]),
            new("/api/v1/images/{id:guid}/png", $"/api/v1/images/{own}/png", [Ok, Missing, Missing, Missing, NoToken]),
            new("/api/v1/images/{id:guid}/thumbnail", $"/api/v1/images/{shared}/thumbnail", [Ok, Ok, Ok, Missing, NoToken]),
            new("/api/v1/images/{id:guid}/thumbnail", $"/api/v1/images/{own}/thumbnail", [Ok, Missing, Missing, Missing, NoToken]),
            new("/api/v1/galleries/{id:guid}/items", $"/api/v1/galleries/{gallery}/items", [Ok, Ok, Ok, Missing, NoToken]),
            new("/api/v1/prompts/{id:guid}", $"/api/v1/prompts/{_world.PromptId}", [Ok, Missing, Missing, Missing, NoToken]),
            // The job routes come from the jobs half of the API (ApiV1Jobs.cs).
            new("/api/v1/jobs/{id:guid}", $"/api/v1/jobs/{job}", [Ok, Ok, Ok, Missing, NoToken]),
            new("/api/v1/jobs/{id:guid}/events", $"/api/v1/jobs/{job}/events", [Ok, Ok, Ok, Missing, NoToken]),
            // Only the owner may cancel; the job has finished, and what that answers the owner is the job tests' business.
            new("/api/v1/jobs/{id:guid}/cancel", $"/api/v1/jobs/{job}/cancel", [Unchecked, Missing, Missing, Missing, NoToken], "POST"),

            // Stars are each person's own: anyone who sees the image may star it; the DELETE rows take them off again.
            new("/api/v1/images/{id:guid}/favorite", $"/api/v1/images/{shared}/favorite", [Done, Done, Done, Missing, NoToken], "PUT"),
            new("/api/v1/images/{id:guid}/favorite", $"/api/v1/images/{shared}/favorite", [Done, Done, Done, Missing, NoToken], "DELETE"),
            new("/api/v1/images/{id:guid}/favorite", $"/api/v1/images/{own}/favorite", [Done, Missing, Missing, Missing, NoToken], "PUT"),
            new("/api/v1/images/{id:guid}/favorite", $"/api/v1/images/{own}/favorite", [Done, Missing, Missing, Missing, NoToken], "DELETE"),
            // Adding: a viewer is refused by role (403, the service's words); the editor may add only their own images,
            // so the owner's reads as missing to them; the owner adds it.
            new("/api/v1/galleries/{id:guid}/items/{imageId:guid}", $"/api/v1/galleries/{gallery}/items/{_world.SpareImage}", [Done, Missing, Forbidden, Missing, NoToken], "PUT"),
            // Removing: viewers are refused; the editor takes it out, after which the owner finds nothing to remove.
            new("/api/v1/galleries/{id:guid}/items/{imageId:guid}", $"/api/v1/galleries/{gallery}/items/{_world.SpareImage}", [Missing, Done, Forbidden, Missing, NoToken], "DELETE"),
            // Deleting an image is the owner's alone (ImageLibrary.DeleteAsync checks Change): teammates who see it
            // in the gallery get 404, not 403, like anyone else's id.
            new("/api/v1/images/{id:guid}", $"/api/v1/images/{_world.DoomedImage}", [Done, Missing, Missing, Missing, NoToken], "DELETE"),
        ];
    }

    private static readonly Who[] AskingOrder = [Who.Anonymous, Who.Outsider, Who.Viewer, Who.Editor, Who.Owner];

    [Fact]
    public async Task Every_id_bearing_route_answers_each_person_as_the_matrix_says()
    {
        var wrong = new List<string>();
        foreach (var row in Routes())
        {
            foreach (var who in AskingOrder)
            {
                var client = row.IsApi ? _world.ApiClients[who] : _world.Clients[who];
                using var request = new HttpRequestMessage(new HttpMethod(row.Method), new Uri(row.Url, UriKind.Relative));
                // Headers only: the events stream of a finished job ends by itself, but the status is all that is asked.
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                var status = (int)response.StatusCode;
                var expected = row.Expected[(int)who];
                if (expected != Unchecked && status != expected)
                {
                    wrong.Add($"{row.Method} {row.Url} as {who}: {status}, expected {expected}");
                }
            }
        }
        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    /// <summary>The id-bearing endpoints of the route table: API ones as "METHOD pattern", the rest as the pattern.</summary>
    private IEnumerable<string> IdBearingEndpoints() =>
        _world.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.Parameters.Any(p => p.ParameterKind == Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterKind.Standard
                && !p.Name.Equals("path", StringComparison.OrdinalIgnoreCase) && !p.Name.StartsWith("**", StringComparison.Ordinal)
                // The OpenAPI document's name is not anyone's id.
                && !p.Name.Equals("documentName", StringComparison.Ordinal)))
            .Where(e => !e.RoutePattern.RawText!.StartsWith("/_", StringComparison.Ordinal) && !e.RoutePattern.RawText.Contains("{**", StringComparison.Ordinal))
            .SelectMany(e =>
            {
                var route = "/" + e.RoutePattern.RawText!.TrimStart('/');
                return route.StartsWith(ApiPrefix, StringComparison.Ordinal)
                    ? MethodsOf(e).Select(m => $"{m} {route}")
                    : [route];
            });

    private static bool TakesMultipart(Microsoft.AspNetCore.Http.Endpoint endpoint) =>
        endpoint.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()
            .Any(a => a.ContentTypes.Any(t => t.StartsWith("multipart/", StringComparison.Ordinal)));

    private static IEnumerable<string> MethodsOf(Microsoft.AspNetCore.Http.Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"];

    [Fact]
    public void Every_id_bearing_route_of_the_app_is_in_the_matrix()
    {
        var endpoints = IdBearingEndpoints();
        // Pages that take an id in their query string.
        var queryPages = typeof(T2IStudio.Web.StudioWebExtensions).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (Type: t, Route: r.Template)))
            .SelectMany(p => p.Type.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                .Where(prop => prop.GetCustomAttribute<SupplyParameterFromQueryAttribute>() is not null && (prop.PropertyType == typeof(Guid) || prop.PropertyType == typeof(Guid?)))
                .Select(prop => $"{p.Route}?{prop.GetCustomAttribute<SupplyParameterFromQueryAttribute>()!.Name ?? prop.Name}"));
        var found = endpoints.Concat(queryPages).Distinct().ToList();
        // The scan itself works: it sees an endpoint route, a page route, a page's query id and API routes by method.
        Assert.Contains("/images/{id:guid}", found);
        Assert.Contains("/teams/{TeamId:guid}", found);
        Assert.Contains("/inpaint?image", found);
        Assert.Contains("GET /api/v1/images/{id:guid}", found);
        Assert.Contains("DELETE /api/v1/images/{id:guid}", found);
        var inMatrix = Routes().Select(r => r.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        // "/" and "/create" are one page; the matrix lists it once, as /create.
        var missing = found.Where(r => !inMatrix.Contains(r) && r != "/?from").Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "Id-bearing routes missing from the access matrix: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task A_stranger_opening_someone_elses_invitation_sees_nothing_of_it()
    {
        foreach (var who in new[] { Who.Owner, Who.Editor, Who.Viewer, Who.Outsider })
        {
            var html = await _world.Clients[who].GetStringAsync(new Uri($"/teams?invitation={_world.InvitationId}", UriKind.Relative));
            Assert.DoesNotContain("data-invitation", html, StringComparison.Ordinal);
            Assert.DoesNotContain("invitee@matrix.test", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Accept the invitation", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_read_token_gets_403_on_every_change_route_of_the_api()
    {
        var changes = _world.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Route: "/" + e.RoutePattern.RawText!.TrimStart('/'), Methods: MethodsOf(e), Multipart: TakesMultipart(e)))
            .Where(e => e.Route.StartsWith(ApiPrefix, StringComparison.Ordinal) || e.Route.StartsWith(A1111Prefix, StringComparison.Ordinal))
            // Reading a PNG's text is the one A1111 POST that changes nothing.
            .Where(e => e.Route != A1111Prefix + "png-info")
            .SelectMany(e => e.Methods.Where(m => m is "POST" or "PUT" or "DELETE" or "PATCH").Select(m => (e.Route, Method: m, e.Multipart)))
            .ToList();
        Assert.Contains((A1111Prefix + "txt2img", "POST", false), changes);
        Assert.Contains(("/api/v1/jobs/inpaint", "POST", true), changes);
        Assert.Contains(("/api/v1/images/{id:guid}", "DELETE", false), changes);
        Assert.Contains(("/api/v1/galleries/{id:guid}/items/{imageId:guid}", "PUT", false), changes);

        var wrong = new List<string>();
        foreach (var (route, method, multipart) in changes)
        {
            if (UrlOfOwners(route) is not { } url)
            {
                wrong.Add($"{method} {route}: no id of the owner's for it; name one in {nameof(UrlOfOwners)}");
                continue;
            }
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(url, UriKind.Relative));
            if (multipart)
            {
                request.Content = new MultipartFormDataContent { { new StringContent("x"), "prompt" } };
            }
            else if (method is "POST" or "PUT" or "PATCH")
            {
                request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            }
            using var response = await _world.OwnerReadOnly.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Forbidden)
            {
                wrong.Add($"{method} {url}: {(int)response.StatusCode}, expected 403");
            }
        }
        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    /// <summary>
    /// <paramref name="route"/> with each id an existing one of the owner's (so a 403 is the scope, not a 404), by the
    /// segment before it; null when a parameter is of a kind not named here.
    /// </summary>
    private string? UrlOfOwners(string route)
    {
        var segments = route.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (!segments[i].StartsWith('{'))
            {
                continue;
            }
            Guid? id = i > 0 ? segments[i - 1] switch
            {
                "images" or "items" => _world.PrivateImage,
                "galleries" => _world.GalleryId,
                "jobs" => _world.TeamJob,
                "prompts" => _world.PromptId,
                _ => null,
            } : null;
            if (id is null)
            {
                return null;
            }
            segments[i] = id.Value.ToString();
        }
        return string.Join('/', segments);
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

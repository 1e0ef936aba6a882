using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// The gallery authorization handler against a real database: every person × gallery × operation, through the
/// app's own <see cref="IAuthorizationService"/>. Whoever cannot see a gallery fails every operation (so callers
/// answer 404), and the gallery service answers them "missing", never "refused".
/// </summary>
public sealed class GalleryAccessTests : IClassFixture<GalleryAccessTests.World>
{
    private readonly World _world;

    public GalleryAccessTests(World world) => _world = world;

    public enum Who
    {
        /// <summary>Owns the private gallery; no member of the team.</summary>
        Owner,
        TeamOwner,
        Editor,
        Viewer,
        NonMember,
    }

    public enum Kind
    {
        Private,
        Team,
        Missing,
    }

    /// <summary>A private gallery, a team gallery (team owner, editor, viewer) and someone in neither.</summary>
    public sealed class World : IAsyncLifetime
    {
        public StudioAppFactory App { get; } = new();

        public Dictionary<Who, AppUser> Users { get; } = [];

        public Dictionary<Kind, Guid> Galleries { get; } = [];

        public async Task InitializeAsync()
        {
            foreach (var who in Enum.GetValues<Who>())
            {
                Users[who] = await App.CreateUserAsync($"ga-{who.ToString().ToLowerInvariant()}@example.test");
            }
            using var scope = App.Services.CreateScope();
            var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
            var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
            var teamOwner = StudioAppFactory.PrincipalOf(Users[Who.TeamOwner]);
            var teamId = (await teams.CreateAsync(teamOwner, "Access team")).Id!.Value;
            Assert.True((await teams.JoinByInvitationAsync(teamOwner, teamId, Users[Who.Editor], TeamRole.Editor)).Succeeded);
            Assert.True((await teams.JoinByInvitationAsync(teamOwner, teamId, Users[Who.Viewer], TeamRole.Viewer)).Succeeded);
            Galleries[Kind.Team] = (await galleries.CreateAsync(teamOwner, "Team board", teamId)).Id!.Value;
            Galleries[Kind.Private] = (await galleries.CreateAsync(StudioAppFactory.PrincipalOf(Users[Who.Owner]), "Mine", null)).Id!.Value;
            Galleries[Kind.Missing] = Guid.NewGuid();
        }

        public Task DisposeAsync()
        {
            App.Dispose();
            return Task.CompletedTask;
        }
    }

    /// <summary>Which of View, AddImages, Manage succeed, as "VAM" with "-" for a refusal.</summary>
    [Theory]
    [InlineData(Who.Owner, Kind.Private, "VAM")]
    [InlineData(Who.TeamOwner, Kind.Private, "---")]
    [InlineData(Who.Editor, Kind.Private, "---")]
    [InlineData(Who.Viewer, Kind.Private, "---")]
    [InlineData(Who.NonMember, Kind.Private, "---")]
    [InlineData(Who.Owner, Kind.Team, "---")]
    [InlineData(Who.TeamOwner, Kind.Team, "VAM")]
    [InlineData(Who.Editor, Kind.Team, "VA-")]
    [InlineData(Who.Viewer, Kind.Team, "V--")]
    [InlineData(Who.NonMember, Kind.Team, "---")]
    [InlineData(Who.Owner, Kind.Missing, "---")]
    [InlineData(Who.TeamOwner, Kind.Missing, "---")]
    [InlineData(Who.Editor, Kind.Missing, "---")]
    [InlineData(Who.Viewer, Kind.Missing, "---")]
    [InlineData(Who.NonMember, Kind.Missing, "---")]
    public async Task The_handler_allows_view_to_any_role_adding_images_to_editors_and_managing_to_owners_only(Who who, Kind kind, string expected)
    {
        using var scope = _world.App.Services.CreateScope();
        var authorization = scope.ServiceProvider.GetRequiredService<IAuthorizationService>();
        var user = StudioAppFactory.PrincipalOf(_world.Users[who]);
        var galleryId = _world.Galleries[kind];

        var byId = await AllowedAsync(authorization, user, galleryId);
        Assert.Equal(expected, byId);

        // The gallery's row is the same resource as its id.
        await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        if (await db.Galleries.AsNoTracking().SingleOrDefaultAsync(g => g.Id == galleryId) is { } row)
        {
            Assert.Equal(expected, await AllowedAsync(authorization, user, row));
        }
        var role = await scope.ServiceProvider.GetRequiredService<GalleryAccess>().RoleAsync(_world.Users[who].Id, galleryId);
        Assert.Equal(expected != "---", role is not null);
    }

    [Fact]
    public async Task An_anonymous_principal_or_an_unknown_resource_is_refused_every_operation()
    {
        using var scope = _world.App.Services.CreateScope();
        var authorization = scope.ServiceProvider.GetRequiredService<IAuthorizationService>();
        Assert.Equal("---", await AllowedAsync(authorization, new ClaimsPrincipal(new ClaimsIdentity()), _world.Galleries[Kind.Team]));
        var owner = StudioAppFactory.PrincipalOf(_world.Users[Who.TeamOwner]);
        Assert.False((await authorization.AuthorizeAsync(owner, _world.Galleries[Kind.Team].ToString(), GalleryOperations.View)).Succeeded);
        Assert.False((await authorization.AuthorizeAsync(owner, null, GalleryOperations.View)).Succeeded);
    }

    [Fact]
    public async Task The_gallery_service_answers_missing_to_those_who_cannot_see_it_and_refuses_those_who_can()
    {
        using var scope = _world.App.Services.CreateScope();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var team = _world.Galleries[Kind.Team];
        Assert.True((await galleries.RenameAsync(StudioAppFactory.PrincipalOf(_world.Users[Who.NonMember]), team, "Taken")).NotFound);
        Assert.True((await galleries.DeleteAsync(StudioAppFactory.PrincipalOf(_world.Users[Who.Owner]), team)).NotFound);
        Assert.True((await galleries.RemoveAsync(StudioAppFactory.PrincipalOf(_world.Users[Who.NonMember]), team, Guid.NewGuid())).NotFound);
        Assert.Equal(["Only the gallery's owners can rename it."], (await galleries.RenameAsync(StudioAppFactory.PrincipalOf(_world.Users[Who.Editor]), team, "Taken")).Errors);
        Assert.Equal(["Viewers cannot remove images from this gallery."], (await galleries.RemoveAsync(StudioAppFactory.PrincipalOf(_world.Users[Who.Viewer]), team, Guid.NewGuid())).Errors);
        Assert.Equal(["Viewers cannot add images to this gallery."], (await galleries.AddAsync(StudioAppFactory.PrincipalOf(_world.Users[Who.Viewer]), team, Guid.NewGuid())).Errors);
        Assert.Equal(0, (await galleries.PageAsync(StudioAppFactory.PrincipalOf(_world.Users[Who.NonMember]), team, new GalleryFilter("", null, null, false), 0, 10)).Total);
    }

    private static async Task<string> AllowedAsync(IAuthorizationService authorization, ClaimsPrincipal user, object resource)
    {
        var letters = new[] { (GalleryOperations.View, 'V'), (GalleryOperations.AddImages, 'A'), (GalleryOperations.Manage, 'M') };
        var answer = new char[letters.Length];
        for (var i = 0; i < letters.Length; i++)
        {
            answer[i] = (await authorization.AuthorizeAsync(user, resource, letters[i].Item1)).Succeeded ? letters[i].Item2 : '-';
        }
        return new string(answer);
    }
}

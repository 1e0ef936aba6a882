using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Realtime;

/// <summary>
/// Who hears of a gallery, a job and an image, read from a real database: the audience follows team membership
/// as it changes, and nobody is told twice.
/// </summary>
public sealed class EventAudienceTests : IClassFixture<StudioAppFixture>
{
    private readonly StudioAppFactory _app;

    public EventAudienceTests(StudioAppFixture fixture) => _app = fixture.Factory;

    private EventAudience Audience => _app.Services.GetRequiredService<EventAudience>();

    [Fact]
    public async Task A_team_gallerys_audience_is_its_members_as_they_join_change_role_and_leave()
    {
        var owner = await _app.CreateUserAsync("aud-owner@example.test");
        var editor = await _app.CreateUserAsync("aud-editor@example.test");
        var viewer = await _app.CreateUserAsync("aud-viewer@example.test");
        using var scope = _app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var teamId = (await teams.CreateAsync(ownerP, "Audience team")).Id!.Value;
        var galleryId = (await galleries.CreateAsync(ownerP, "Shared", teamId)).Id!.Value;
        var privateId = (await galleries.CreateAsync(StudioAppFactory.PrincipalOf(editor), "Editor's own", null)).Id!.Value;

        Assert.Equal([owner.Id], await Audience.OfGalleryAsync(galleryId));
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, editor, TeamRole.Editor)).Succeeded);
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, viewer, TeamRole.Viewer)).Succeeded);
        Assert.Equal(Sorted(owner.Id, editor.Id, viewer.Id), Sorted(await Audience.OfGalleryAsync(galleryId)));

        // A role changes what someone may do, not whether they hear.
        Assert.True((await teams.ChangeRoleAsync(ownerP, teamId, viewer.Id, TeamRole.Editor)).Succeeded);
        Assert.Equal(Sorted(owner.Id, editor.Id, viewer.Id), Sorted(await Audience.OfGalleryAsync(galleryId)));

        Assert.True((await teams.RemoveMemberAsync(ownerP, teamId, editor.Id)).Succeeded);
        Assert.Equal(Sorted(owner.Id, viewer.Id), Sorted(await Audience.OfGalleryAsync(galleryId)));
        Assert.True((await teams.LeaveAsync(StudioAppFactory.PrincipalOf(viewer), teamId)).Succeeded);
        Assert.Equal([owner.Id], await Audience.OfGalleryAsync(galleryId));

        // A private gallery is heard by its owner alone, whatever teams they are in; a missing one by nobody.
        Assert.Equal([editor.Id], await Audience.OfGalleryAsync(privateId));
        Assert.Empty(await Audience.OfGalleryAsync(Guid.NewGuid()));
    }

    [Fact]
    public async Task A_jobs_audience_is_its_owner_and_the_galleries_members_each_once()
    {
        var owner = await _app.CreateUserAsync("job-owner@example.test");
        var editor = await _app.CreateUserAsync("job-editor@example.test");
        var viewer = await _app.CreateUserAsync("job-viewer@example.test");
        var former = await _app.CreateUserAsync("job-former@example.test");
        using var scope = _app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var teamId = (await teams.CreateAsync(ownerP, "Job team")).Id!.Value;
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, editor, TeamRole.Editor)).Succeeded);
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, viewer, TeamRole.Viewer)).Succeeded);
        var galleryId = (await galleries.CreateAsync(ownerP, "Renders", teamId)).Id!.Value;

        // The editor's job into the team gallery: the editor (its owner) first, then every other member, nobody twice.
        var heard = await Audience.OfJobAsync(editor.Id, galleryId);
        Assert.Equal(editor.Id, heard[0]);
        Assert.Equal(Sorted(owner.Id, editor.Id, viewer.Id), Sorted(heard));

        // Someone who left after submitting still follows their own job; the members still see it.
        Assert.Equal(Sorted(former.Id, owner.Id, editor.Id, viewer.Id), Sorted(await Audience.OfJobAsync(former.Id, galleryId)));

        // A job into no gallery, or into one that is gone, is its owner's alone.
        Assert.Equal([viewer.Id], await Audience.OfJobAsync(viewer.Id, null));
        Assert.Equal([viewer.Id], await Audience.OfJobAsync(viewer.Id, Guid.NewGuid()));
    }

    [Fact]
    public async Task An_images_audience_is_its_owner_and_everyone_who_sees_a_gallery_holding_it_with_each_gallery_named()
    {
        var owner = await _app.CreateUserAsync("img-owner@example.test");
        var member = await _app.CreateUserAsync("img-member@example.test");
        var outsider = await _app.CreateUserAsync("img-outsider@example.test");
        using var scope = _app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var teamId = (await teams.CreateAsync(ownerP, "Image team")).Id!.Value;
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, member, TeamRole.Viewer)).Succeeded);
        var teamGallery = (await galleries.CreateAsync(ownerP, "Team wall", teamId)).Id!.Value;
        var ownGallery = (await galleries.CreateAsync(ownerP, "My wall", null)).Id!.Value;
        var imageId = await AddImageRowAsync(owner.Id);

        var alone = await Audience.OfImageAsync(imageId);
        Assert.Equal([owner.Id], alone.People);
        Assert.Empty(alone.Galleries);

        Assert.True((await galleries.AddAsync(ownerP, teamGallery, imageId)).Succeeded);
        Assert.True((await galleries.AddAsync(ownerP, ownGallery, imageId)).Succeeded);
        var shared = await Audience.OfImageAsync(imageId);
        Assert.Equal(Sorted(owner.Id, member.Id), Sorted(shared.People));
        Assert.Equal(Sorted(teamGallery.ToString(), ownGallery.ToString()), Sorted([.. shared.Galleries.Keys.Select(k => k.ToString())]));
        Assert.Equal(Sorted(owner.Id, member.Id), Sorted(shared.Galleries[teamGallery]));
        Assert.Equal([owner.Id], shared.Galleries[ownGallery]);
        Assert.DoesNotContain(outsider.Id, shared.People);

        Assert.True((await teams.RemoveMemberAsync(ownerP, teamId, member.Id)).Succeeded);
        Assert.Equal([owner.Id], (await Audience.OfImageAsync(imageId)).People);
        Assert.Same(ImageAudience.None, await Audience.OfImageAsync(Guid.NewGuid()));
    }

    private async Task<Guid> AddImageRowAsync(string ownerId)
    {
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var job = new Job { Id = Guid.NewGuid(), OwnerId = ownerId, Status = JobStatus.Completed, Model = "test", Prompt = "a lighthouse", RequestJson = "{}", BatchSize = 1, TotalSteps = 1, Step = 1, Width = 64, Height = 64, CreatedAt = DateTimeOffset.UtcNow };
        var image = new GeneratedImage { Id = Guid.NewGuid(), OwnerId = ownerId, JobId = job.Id, Model = "test", Prompt = "a lighthouse", Width = 64, Height = 64, FileKey = Guid.NewGuid(), Sha256 = new string('0', 64), CreatedAt = DateTimeOffset.UtcNow };
        db.Jobs.Add(job);
        db.Images.Add(image);
        await db.SaveChangesAsync();
        return image.Id;
    }

    private static string[] Sorted(params IEnumerable<string> ids) => [.. ids.Order(StringComparer.Ordinal)];
}

using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Testing;
using T2IStudio.Web.Comments;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;

namespace T2IStudio.Web.Tests.Email;

/// <summary>
/// Review and comment notices by email: to an author who asked for them and whose address is confirmed, with the
/// actor's name, the gallery, the comment (escaped in HTML) and the in-app notification's link; never to the
/// actor, never to someone who no longer sees the gallery.
/// </summary>
public sealed class ImageActivityMailTests(MailApp mail) : IClassFixture<MailApp>
{
    private StudioAppFactory App => mail.App;

    /// <summary>What <paramref name="user"/> received apart from the team invitations the arrangement sent.</summary>
    private List<MimeKit.MimeMessage> Notices(AppUser user) =>
        mail.To(user.Email!).Where(m => !(m.Subject ?? "").Contains("invited to join a team", StringComparison.Ordinal)).ToList();

    private async Task SetEmailAsync(AppUser user, bool optedIn, bool confirmed)
    {
        await using var db = await App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        await db.Users.Where(u => u.Id == user.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.EmailOnImageActivity, optedIn).SetProperty(x => x.EmailConfirmed, confirmed));
    }

    private async Task<IReadOnlyList<Guid>> GenerateIntoAsync(AppUser author, Guid galleryId, int count) =>
        (await App.GenerateAsync(author, GenerationQueueTests.Request(prompt: "a poster", steps: 2, batch: count) with { GalleryId = galleryId })).ImageIds;

    private async Task<T> WithAsync<T>(Func<IServiceProvider, Task<T>> use)
    {
        using var scope = App.Services.CreateScope();
        return await use(scope.ServiceProvider);
    }

    private Task<ChangeResult> ReviewAsync(ClaimsPrincipal reviewer, Guid galleryId, Guid imageId, ReviewState state) =>
        WithAsync(s => s.GetRequiredService<ReviewService>().SetStateAsync(reviewer, galleryId, imageId, state));

    private Task<ChangeResult> CommentAsync(ClaimsPrincipal author, Guid imageId, string text) =>
        WithAsync(s => s.GetRequiredService<CommentService>().AddAsync(author, imageId, text));

    [Fact]
    public async Task An_author_who_asked_hears_of_approval_requested_changes_and_comments_with_a_link_to_the_image()
    {
        var team = await ReviewTests.TeamAsync(App, "notice");
        await SetEmailAsync(team.Editor, optedIn: true, confirmed: true);
        var images = await GenerateIntoAsync(team.Editor, team.GalleryId, 2);
        Assert.True((await WithAsync(s => s.GetRequiredService<ReviewService>().SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true))).Succeeded);

        Assert.True((await ReviewAsync(team.OwnerP, team.GalleryId, images[0], ReviewState.Approved)).Succeeded);
        var approved = await mail.Sink.WaitForAsync(team.Editor.Email!, m => (m.Subject ?? "").Contains("approved", StringComparison.Ordinal));
        Assert.Equal("Olga approved your image in Client X", approved.Subject);
        Assert.Contains("Hello Ed,", approved.TextBody, StringComparison.Ordinal);
        Assert.Equal($"{MailApp.PublicBaseUrl}/gallery?g={team.GalleryId}&image={images[0]}", SmtpSink.LinkIn(approved, MailApp.PublicBaseUrl + "/gallery").AbsoluteUri);
        Assert.Contains($"{MailApp.PublicBaseUrl}/Account/Manage", approved.TextBody, StringComparison.Ordinal);

        Assert.True((await ReviewAsync(team.OwnerP, team.GalleryId, images[1], ReviewState.ChangesRequested)).Succeeded);
        var changes = await mail.Sink.WaitForAsync(team.Editor.Email!, m => (m.Subject ?? "").Contains("requested changes", StringComparison.Ordinal));
        Assert.Equal("Olga requested changes to your image in Client X", changes.Subject);
        Assert.Equal($"{MailApp.PublicBaseUrl}/gallery?g={team.GalleryId}&image={images[1]}", SmtpSink.LinkIn(changes, MailApp.PublicBaseUrl + "/gallery").AbsoluteUri);

        var longText = "Love the <b>light</b> & the colours. " + new string('x', 600);
        Assert.True((await CommentAsync(team.OwnerP, images[0], longText)).Succeeded);
        var comment = await mail.Sink.WaitForAsync(team.Editor.Email!, m => (m.Subject ?? "").Contains("commented", StringComparison.Ordinal));
        Assert.Equal("Olga commented on your image in Client X", comment.Subject);
        Assert.Contains("Love the <b>light</b> & the colours.", comment.TextBody, StringComparison.Ordinal);
        Assert.Contains("Love the &lt;b&gt;light&lt;/b&gt; &amp; the colours.", comment.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>light", comment.HtmlBody, StringComparison.Ordinal);
        Assert.Contains(new string('x', 400) + "…", comment.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 600), comment.TextBody, StringComparison.Ordinal);
        Assert.Equal($"{MailApp.PublicBaseUrl}/gallery?g={team.GalleryId}&image={images[0]}", SmtpSink.LinkIn(comment, MailApp.PublicBaseUrl + "/gallery").AbsoluteUri);
    }

    [Fact]
    public async Task Nobody_is_emailed_who_did_not_ask_is_unconfirmed_acted_themselves_or_no_longer_sees_the_gallery()
    {
        var team = await ReviewTests.TeamAsync(App, "quiet");
        var edsImage = (await GenerateIntoAsync(team.Editor, team.GalleryId, 1)).Single();
        var olgasImage = (await GenerateIntoAsync(team.Owner, team.GalleryId, 1)).Single();
        Assert.True((await WithAsync(s => s.GetRequiredService<ReviewService>().SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true))).Succeeded);

        // Olga did not ask: Ed's comment and review on her image send her nothing.
        await SetEmailAsync(team.Owner, optedIn: false, confirmed: true);
        Assert.True((await CommentAsync(team.EditorP, olgasImage, "not asked")).Succeeded);
        Assert.True((await ReviewAsync(team.EditorP, team.GalleryId, olgasImage, ReviewState.Approved)).Succeeded);
        // Asked, but her address is not confirmed: still nothing.
        await SetEmailAsync(team.Owner, optedIn: true, confirmed: false);
        Assert.True((await CommentAsync(team.EditorP, olgasImage, "unconfirmed")).Succeeded);
        // Ed asked, but acts on his own image himself.
        await SetEmailAsync(team.Editor, optedIn: true, confirmed: true);
        Assert.True((await CommentAsync(team.EditorP, edsImage, "my own")).Succeeded);
        Assert.True((await ReviewAsync(team.EditorP, team.GalleryId, edsImage, ReviewState.Approved)).Succeeded);
        // Ed leaves the team: Olga's comment on his image (still in the team's gallery) is not his to hear of.
        Assert.True((await WithAsync(s => s.GetRequiredService<TeamService>().RemoveMemberAsync(team.OwnerP, team.TeamId, team.Editor.Id))).Succeeded);
        Assert.True((await CommentAsync(team.OwnerP, edsImage, "after you left")).Succeeded);

        await mail.DrainAsync("quiet-marker@example.test");
        Assert.Empty(Notices(team.Owner));
        Assert.Empty(Notices(team.Editor));

        // Once Olga's address is confirmed, the same kind of comment reaches her: the rule above was the address.
        await SetEmailAsync(team.Owner, optedIn: true, confirmed: true);
        var viewer = await App.CreateUserAsync("quiet-editor2@example.test", displayName: "Eve");
        await App.ConfirmEmailAsync(viewer);
        Assert.True((await WithAsync(s => s.GetRequiredService<TeamService>().JoinByInvitationAsync(team.OwnerP, team.TeamId, viewer, TeamRole.Editor))).Succeeded);
        Assert.True((await CommentAsync(StudioAppFactory.PrincipalOf(viewer), olgasImage, "now confirmed")).Succeeded);
        var arrived = await mail.Sink.WaitForAsync(team.Owner.Email!, m => (m.Subject ?? "").Contains("commented", StringComparison.Ordinal));
        Assert.Equal("Eve commented on your image in Client X", arrived.Subject);
        Assert.Contains("now confirmed", arrived.TextBody, StringComparison.Ordinal);
    }
}

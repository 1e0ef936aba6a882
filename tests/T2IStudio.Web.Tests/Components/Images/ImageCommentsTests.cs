using AngleSharp.Dom;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Images;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Tests.Components.Images;

public sealed class ImageCommentsTests : ImageComponentTestBase
{
    [Fact]
    public async Task A_comment_is_added_edited_and_deleted()
    {
        var user = await SignInAsync("commenter@example.test");
        var image = await AddImageAsync(user.Id, "a quiet harbour");
        var comments = Render<ImageComments>(p => p.Add(c => c.Image, image));
        comments.WaitForAssertion(() =>
        {
            Assert.Contains("No comments yet.", comments.Find("[role=list][aria-label=Comments]").TextContent, StringComparison.Ordinal);
            Assert.NotNull(Field(comments, "Comment"));
        });

        await comments.InvokeAsync(() => Field(comments, "Comment").Input("Lovely light."));
        await comments.InvokeAsync(() => Button(comments, "Add comment").Click());
        comments.WaitForAssertion(() => Assert.Contains("Lovely light.", Assert.Single(comments.FindAll("[role=listitem]")).TextContent, StringComparison.Ordinal));
        await using (var db = CreateDb())
        {
            var row = await db.Comments.SingleAsync();
            Assert.Equal((image.Id, user.Id, "Lovely light."), (row.ImageId, row.AuthorId, row.Text));
        }

        await comments.InvokeAsync(() => comments.Find("button[aria-label='Edit comment']").Click());
        await comments.InvokeAsync(() => Field(comments, "Edit comment").Input("Lovely evening light."));
        await comments.InvokeAsync(() => Button(comments, "Save").Click());
        comments.WaitForAssertion(() =>
        {
            var item = Assert.Single(comments.FindAll("[role=listitem]"));
            Assert.Contains("Lovely evening light.", item.TextContent, StringComparison.Ordinal);
            Assert.Contains("· edited", item.TextContent, StringComparison.Ordinal);
        });

        await comments.InvokeAsync(() => comments.Find("button[aria-label='Delete comment']").Click());
        comments.WaitForAssertion(() => Assert.Contains("No comments yet.", comments.Markup, StringComparison.Ordinal));
        await using (var db = CreateDb())
        {
            Assert.False(await db.Comments.AnyAsync());
        }
    }

    [Fact]
    public async Task A_published_change_shows_someone_elses_comment_for_the_image_shown_and_follows_a_new_image()
    {
        var user = await SignInAsync("reader@example.test");
        var teammate = await AddUserAsync("teammate@example.test");
        var first = await AddImageAsync(user.Id, "the first harbour");
        var second = await AddImageAsync(user.Id, "the second harbour");
        var comments = Render<ImageComments>(p => p.Add(c => c.Image, first));
        comments.WaitForAssertion(() => Assert.NotNull(Field(comments, "Comment")));

        await AddCommentRowAsync(first.Id, teammate.Id, "Seen from the pier?");
        Services.GetRequiredService<StudioNotifier>().Publish(new CommentsChanged(first.Id, user.Id));
        comments.WaitForAssertion(() => Assert.Contains("Seen from the pier?", Assert.Single(comments.FindAll("[role=listitem]")).TextContent, StringComparison.Ordinal));
        Assert.Empty(comments.FindAll("button[aria-label='Edit comment']"));

        comments.Render(p => p.Add(c => c.Image, second));
        comments.WaitForAssertion(() => Assert.Contains("No comments yet.", comments.Markup, StringComparison.Ordinal));
        await AddCommentRowAsync(second.Id, teammate.Id, "And from the beach.");
        Services.GetRequiredService<StudioNotifier>().Publish(new CommentsChanged(second.Id, user.Id));
        comments.WaitForAssertion(() => Assert.Contains("And from the beach.", Assert.Single(comments.FindAll("[role=listitem]")).TextContent, StringComparison.Ordinal));
    }

    private async Task AddCommentRowAsync(Guid imageId, string authorId, string text)
    {
        await using var db = CreateDb();
        db.Comments.Add(new Comment { Id = Guid.NewGuid(), ImageId = imageId, AuthorId = authorId, Text = text, CreatedAt = MadeAt });
        await db.SaveChangesAsync();
    }

    // MudTextField labels its textarea with a <label for>.
    private static IElement Field(IRenderedComponent<ImageComments> comments, string label)
    {
        var id = comments.FindAll("label").Single(l => l.TextContent.Trim() == label).GetAttribute("for");
        return comments.FindAll("textarea").Single(t => t.Id == id);
    }

    private static IElement Button(IRenderedComponent<ImageComments> comments, string text) =>
        comments.FindAll("button").Single(b => b.TextContent.Trim() == text);
}

using Bunit;
using T2IStudio.Web.Components.Images;

namespace T2IStudio.Web.Tests.Components.Images;

public sealed class ImageLineageTests : ImageComponentTestBase
{
    [Fact]
    public async Task It_shows_the_parent_and_the_children_and_opens_the_one_clicked()
    {
        var user = await SignInAsync("lineage@example.test");
        var parent = await AddImageAsync(user.Id, "the original");
        var self = await AddImageAsync(user.Id, "the inpainted one", parentId: parent.Id);
        var child = await AddImageAsync(user.Id, "inpainted again", parentId: self.Id);
        var opened = new List<Guid>();

        var lineage = Render<ImageLineage>(p => p.Add(l => l.Image, self).Add(l => l.OnOpenImage, (Guid id) => opened.Add(id)));

        lineage.WaitForAssertion(() => Assert.Equal(2, lineage.FindAll("[data-testid=lineage] button").Count));
        Assert.Equal($"/images/{parent.Id}/thumb", lineage.Find("button[aria-label='Open parent image'] img").GetAttribute("src"));
        Assert.Equal($"/images/{child.Id}/thumb", lineage.Find("button[aria-label='Open inpainted child: inpainted again'] img").GetAttribute("src"));
        Assert.Contains("This image", lineage.Find("[data-testid=lineage]").TextContent, StringComparison.Ordinal);

        await lineage.InvokeAsync(() => lineage.Find("button[aria-label='Open parent image']").Click());
        await lineage.InvokeAsync(() => lineage.Find("button[aria-label='Open inpainted child: inpainted again']").Click());

        Assert.Equal([parent.Id, child.Id], opened);
    }

    [Fact]
    public async Task A_deleted_parent_is_named_as_deleted()
    {
        var user = await SignInAsync("orphan@example.test");
        var self = await AddImageAsync(user.Id, "made from something gone", parentId: Guid.NewGuid());

        var lineage = Render<ImageLineage>(p => p.Add(l => l.Image, self));

        lineage.WaitForAssertion(() => Assert.Contains("Made from an image that was deleted →", lineage.Find("[data-testid=lineage]").TextContent, StringComparison.Ordinal));
        Assert.Empty(lineage.FindAll("button"));
    }
}

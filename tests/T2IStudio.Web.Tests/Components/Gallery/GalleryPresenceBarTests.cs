using System.Security.Claims;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Gallery;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Gallery;

public sealed class GalleryPresenceBarTests : StudioComponentTestBase
{
    [Fact]
    public async Task Someone_else_who_opens_the_gallery_appears_under_also_here_and_goes_when_they_leave()
    {
        AddGenerationServices();
        var ana = await AddUserAsync("ana@example.test");
        SignIn(ana);
        var created = await Services.GetRequiredService<GalleryService>().CreateAsync(StudioAppFactory.PrincipalOf(ana), "Moodboard", null);
        var galleryId = created.Id!.Value;
        var presence = Services.GetRequiredService<GalleryPresence>();

        var bar = Render<GalleryPresenceBar>(p => p.Add(b => b.GalleryId, galleryId));

        // Ana's own page stands in the gallery; she does not see herself.
        bar.WaitForAssertion(() => Assert.Equal([ana.Id], presence.WhoHere(galleryId).Select(p => p.UserId)));
        Assert.Empty(bar.FindAll("[role=group]"));

        var ben = presence.Join(galleryId, new PresentPerson("ben-id", "Ben Other"), [ana.Id]);
        bar.WaitForAssertion(() =>
        {
            var avatar = bar.Find("[role=group][aria-label='Also here'] [role=img]");
            Assert.Equal("Ben Other", avatar.GetAttribute("aria-label"));
            Assert.Equal("BO", avatar.TextContent.Trim());
        });

        ben.Dispose();
        bar.WaitForAssertion(() => Assert.Empty(bar.FindAll("[role=group]")));
    }

    [Fact]
    public async Task Leaving_the_gallery_for_my_images_takes_the_page_out_of_its_presence()
    {
        AddGenerationServices();
        var ana = await AddUserAsync("ana@example.test");
        SignIn(ana);
        var created = await Services.GetRequiredService<GalleryService>().CreateAsync(StudioAppFactory.PrincipalOf(ana), "Moodboard", null);
        var galleryId = created.Id!.Value;
        var presence = Services.GetRequiredService<GalleryPresence>();
        var bar = Render<GalleryPresenceBar>(p => p.Add(b => b.GalleryId, galleryId));
        bar.WaitForAssertion(() => Assert.Single(presence.WhoHere(galleryId)));

        bar.Render(p => p.Add(b => b.GalleryId, (Guid?)null));

        bar.WaitForAssertion(() => Assert.Empty(presence.WhoHere(galleryId)));
    }

    private void SignIn(AppUser user)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized(user.Email!);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id));
        UseRealResourceChecks();
    }
}

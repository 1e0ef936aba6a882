using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Web.Components.Create;
using T2IStudio.Web.Components.Gallery;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Realtime;

/// <summary>
/// A closed tab's circuit, once released (at once, or after the disconnected-circuit retention period), disposes
/// every component it rendered, as the renderer here does: nothing of the page may stay in the app's singletons
/// (event subscriptions, gallery presence), or each closed tab would keep its page alive and reachable.
/// </summary>
public sealed class CircuitReleaseTests : StudioComponentTestBase
{
    [Fact]
    public async Task A_team_gallery_page_leaves_no_subscription_or_presence_once_its_circuit_is_released()
    {
        AddGenerationServices();
        var user = await SignInAsync("ana@example.test");
        var principal = StudioAppFactory.PrincipalOf(user);
        var team = await Services.GetRequiredService<TeamService>().CreateAsync(principal, "Studio");
        var gallery = await Services.GetRequiredService<GalleryService>().CreateAsync(principal, "Board", team.Id);
        var events = Services.GetRequiredService<StudioNotifier>();
        var presence = Services.GetRequiredService<GalleryPresence>();
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/gallery?g={gallery.Id}");

        var page = Render<GalleryPage>();

        // The page and its presence bar listen, and the person shows as looking at the gallery.
        page.WaitForAssertion(() =>
        {
            Assert.Equal(1, presence.VisitCount);
            Assert.True(events.SubscriptionCount >= 2, $"{events.SubscriptionCount} subscriptions");
            Assert.Equal(["ana@example.test"], presence.WhoHere(gallery.Id!.Value).Select(p => p.UserId == user.Id ? user.Email : p.UserId));
        });

        await DisposeComponentsAsync();

        Assert.Equal(0, events.SubscriptionCount);
        Assert.Equal(0, presence.VisitCount);
        Assert.Empty(presence.WhoHere(gallery.Id!.Value));
    }

    [Fact]
    public async Task A_create_page_leaves_no_subscription_once_its_circuit_is_released()
    {
        AddGenerationServices();
        await SignInAsync("ben@example.test");
        var events = Services.GetRequiredService<StudioNotifier>();

        var page = Render<CreatePage>();

        // The page (styles) and its queue panel (jobs) each listen for the person's events.
        page.WaitForAssertion(() => Assert.Equal(2, events.SubscriptionCount));

        await DisposeComponentsAsync();

        Assert.Equal(0, events.SubscriptionCount);
    }
}

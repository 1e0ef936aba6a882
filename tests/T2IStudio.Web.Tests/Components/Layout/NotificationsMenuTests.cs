using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Web.Components.Layout;
using T2IStudio.Web.Notifications;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Layout;

public sealed class NotificationsMenuTests : StudioComponentTestBase
{
    [Fact]
    public async Task The_bell_counts_unread_notifications_lists_them_and_marks_all_read()
    {
        var (ana, notifications) = await SignInAsAnaAsync();
        var ben = await AddUserAsync("ben@example.test");
        await notifications.NotifyAsync(ana.Id, "Ben approved your image", "/gallery?g=1&image=2");
        await notifications.NotifyAsync(ana.Id, "Ben requested changes to your image", null);
        await notifications.NotifyAsync(ben.Id, "Not for Ana", null);

        var layout = RenderLayout();

        layout.WaitForAssertion(() => Assert.Equal("2", Badge(layout)));
        Assert.NotNull(layout.Find("button[aria-label='Notifications']"));

        await layout.InvokeAsync(() => layout.Find("button[aria-label='Notifications']").Click());
        layout.WaitForAssertion(() => Assert.Equal(2, layout.FindAll(".studio-notification-unread").Count));
        Assert.Equal(["Ben requested changes to your image", "Ben approved your image"], layout.FindAll(".studio-notification-text").Select(t => t.TextContent));

        await layout.InvokeAsync(() => layout.FindAll("button").Single(b => b.TextContent.Trim() == "Mark all as read").Click());

        layout.WaitForAssertion(() => Assert.Null(Badge(layout)));
        Assert.Empty(layout.FindAll(".studio-notification-unread"));
        Assert.Equal(2, layout.FindAll(".studio-notification-text").Count);
        Assert.Equal(0, await notifications.UnreadCountAsync(Principal(ana.Id)));
        Assert.Equal(1, await notifications.UnreadCountAsync(Principal(ben.Id)));
    }

    [Fact]
    public async Task Reading_on_another_page_brings_this_bells_badge_down_without_opening_it()
    {
        var (ana, notifications) = await SignInAsAnaAsync();
        await notifications.NotifyAsync(ana.Id, "Ben approved your image", null);
        await notifications.NotifyAsync(ana.Id, "Ben requested changes to your image", null);
        var layout = RenderLayout();
        layout.WaitForAssertion(() => Assert.Equal("2", Badge(layout)));

        // Another tab of Ana's marks one read, then all.
        var other = (await notifications.ListAsync(Principal(ana.Id)))[0];
        Assert.True(await notifications.MarkReadAsync(Principal(ana.Id), other.Id));
        layout.WaitForAssertion(() => Assert.Equal("1", Badge(layout)));
        await notifications.MarkAllReadAsync(Principal(ana.Id));
        layout.WaitForAssertion(() => Assert.Null(Badge(layout)));
    }

    [Fact]
    public async Task Opening_a_notification_marks_it_read_and_follows_its_link()
    {
        var (ana, notifications) = await SignInAsAnaAsync();
        await notifications.NotifyAsync(ana.Id, "Ben approved your image", "/gallery?g=1&image=2");
        await notifications.NotifyAsync(ana.Id, "Welcome", null);
        var layout = RenderLayout();
        layout.WaitForAssertion(() => Assert.Equal("2", Badge(layout)));

        await layout.InvokeAsync(() => layout.Find("button[aria-label='Notifications']").Click());
        layout.WaitForAssertion(() => Assert.Equal(2, layout.FindAll(".studio-notification-text").Count));
        var approved = layout.FindAll(".studio-notification-text").Single(t => t.TextContent == "Ben approved your image");
        await layout.InvokeAsync(() => approved.Click());

        layout.WaitForAssertion(() => Assert.Equal("1", Badge(layout)));
        Assert.EndsWith("/gallery?g=1&image=2", Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal);
        Assert.Equal([true, false], (await notifications.ListAsync(Principal(ana.Id))).OrderBy(n => n.Text).Select(n => n.IsRead));
    }

    [Fact]
    public async Task A_new_notification_bumps_the_badge_and_shows_a_snackbar_whose_view_action_opens_it()
    {
        var (ana, notifications) = await SignInAsAnaAsync();
        var layout = RenderLayout();
        layout.WaitForAssertion(() => Assert.NotNull(layout.Find("button[aria-label='Notifications']")));
        Assert.Null(Badge(layout));

        await notifications.NotifyAsync(ana.Id, "Cy commented on your image", "/gallery?g=3&image=4");

        layout.WaitForAssertion(() => Assert.Equal("1", Badge(layout)));
        layout.WaitForAssertion(() => Assert.Contains("Cy commented on your image", layout.Find(".mud-snackbar").TextContent, StringComparison.Ordinal));
        var view = layout.Find(".mud-snackbar").QuerySelectorAll("button").Single(b => b.TextContent.Trim() == "View");
        await layout.InvokeAsync(() => view.Click());

        layout.WaitForAssertion(() => Assert.EndsWith("/gallery?g=3&image=4", Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal));
        layout.WaitForAssertion(() => Assert.Null(Badge(layout)));
        Assert.Equal(0, await notifications.UnreadCountAsync(Principal(ana.Id)));
    }

    private async Task<(T2IStudio.Data.Entities.AppUser Ana, NotificationService Notifications)> SignInAsAnaAsync()
    {
        var ana = await AddUserAsync("ana@example.test");
        var auth = AddAuthorization();
        auth.SetAuthorized(ana.Email!);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, ana.Id), new Claim(T2IStudio.Web.Auth.StudioClaimsPrincipalFactory.DisplayNameClaim, "Ana"));
        return (ana, Services.GetRequiredService<NotificationService>());
    }

    private IRenderedComponent<MainLayout> RenderLayout() =>
        Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page body"))));

    /// <summary>The unread badge's number, or null when it is hidden.</summary>
    private static string? Badge(IRenderedComponent<MainLayout> layout) =>
        layout.FindAll(".studio-notifications-badge") is { Count: > 0 } badges && badges[0].TextContent.Trim() is { Length: > 0 } text ? text : null;
}

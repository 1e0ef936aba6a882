using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Data;
using T2IStudio.Web.Notifications;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>Notifications: each person reads and marks only their own, they stay bounded, and they link only inside the app.</summary>
public class NotificationTests
{
    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    [Fact]
    public async Task A_person_is_told_lists_newest_first_counts_unread_and_marks_read_only_their_own()
    {
        using var app = NewApp();
        var ana = await app.CreateUserAsync("n-ana@example.test");
        var ben = await app.CreateUserAsync("n-ben@example.test");
        var (notifications, time) = Service(app);
        var anaP = StudioAppFactory.PrincipalOf(ana);
        var benP = StudioAppFactory.PrincipalOf(ben);
        using var anaHears = new JobWaiter(app.Services, ana.Id);

        await notifications.NotifyAsync(ana.Id, "Ben approved your image", "/gallery?g=1&image=2");
        time.Advance(TimeSpan.FromMinutes(1));
        await notifications.NotifyAsync(ana.Id, "Ben requested changes to your image", null);
        time.Advance(TimeSpan.FromMinutes(1));
        await notifications.NotifyAsync(ben.Id, "For Ben only", null);

        var list = await notifications.ListAsync(anaP);
        Assert.Equal(["Ben requested changes to your image", "Ben approved your image"], list.Select(n => n.Text));
        Assert.Equal([null, "/gallery?g=1&image=2"], list.Select(n => n.Link));
        Assert.All(list, n => Assert.False(n.IsRead));
        Assert.Equal(2, await notifications.UnreadCountAsync(anaP));
        var heard = anaHears.Events.OfType<NotificationAdded>().ToList();
        Assert.Equal(list.Select(n => n.Id).Reverse(), heard.Select(n => n.NotificationId));
        Assert.Equal("Ben approved your image", heard[0].Text);

        // Someone else's notification reads as missing and stays unread.
        Assert.False(await notifications.MarkReadAsync(benP, list[0].Id));
        Assert.False(await notifications.MarkReadAsync(anaP, Guid.NewGuid()));
        Assert.Equal(2, await notifications.UnreadCountAsync(anaP));

        Assert.True(await notifications.MarkReadAsync(anaP, list[1].Id));
        Assert.True(await notifications.MarkReadAsync(anaP, list[1].Id)); // again: still read, still hers
        Assert.Equal([false, true], (await notifications.ListAsync(anaP)).Select(n => n.IsRead));
        Assert.Equal(1, await notifications.UnreadCountAsync(anaP));

        Assert.Equal(1, await notifications.MarkAllReadAsync(anaP));
        Assert.Equal(0, await notifications.UnreadCountAsync(anaP));
        // Ana's other pages heard each change that read something (the repeated mark read changed nothing), and only Ana's.
        Assert.Equal(2, anaHears.Events.OfType<NotificationsRead>().Count());
        Assert.Equal(0, await notifications.MarkAllReadAsync(anaP));
        Assert.Equal(2, anaHears.Events.OfType<NotificationsRead>().Count());
        Assert.Equal(1, await notifications.UnreadCountAsync(benP)); // Ben's are untouched
        Assert.Equal(["For Ben only"], (await notifications.ListAsync(benP)).Select(n => n.Text));
        Assert.Single(await notifications.ListAsync(anaP, take: 1));
    }

    [Fact]
    public async Task Adding_past_the_limit_lets_the_oldest_read_ones_go_first()
    {
        using var app = NewApp();
        var ana = await app.CreateUserAsync("prune-ana@example.test");
        var (notifications, time) = Service(app);
        var anaP = StudioAppFactory.PrincipalOf(ana);
        for (var i = 0; i < NotificationService.MaxKeptPerPerson; i++)
        {
            await notifications.NotifyAsync(ana.Id, $"old {i}", null);
            time.Advance(TimeSpan.FromSeconds(1));
        }
        // The oldest ten stay unread; the rest are read.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var readable = (await db.Notifications.Where(n => n.UserId == ana.Id).ToListAsync()).OrderBy(n => n.CreatedAt).Skip(10);
            foreach (var n in readable)
            {
                n.ReadAt = time.GetUtcNow();
            }
            await db.SaveChangesAsync();
        }

        for (var i = 0; i < 5; i++)
        {
            await notifications.NotifyAsync(ana.Id, $"new {i}", null);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        var kept = await notifications.ListAsync(anaP, take: 500);
        Assert.Equal(NotificationService.MaxKeptPerPerson, kept.Count);
        // The five oldest read ones ("old 10" to "old 14") went; the ten unread old ones stayed.
        var texts = kept.Select(n => n.Text).ToHashSet();
        Assert.All(Enumerable.Range(0, 10), i => Assert.Contains($"old {i}", texts));
        Assert.All(Enumerable.Range(10, 5), i => Assert.DoesNotContain($"old {i}", texts));
        Assert.All(Enumerable.Range(0, 5), i => Assert.Contains($"new {i}", texts));
        Assert.Equal(15, await notifications.UnreadCountAsync(anaP));
    }

    [Fact]
    public async Task Unread_notifications_past_the_limit_go_oldest_first_so_the_count_stays_bounded()
    {
        using var app = NewApp();
        var ana = await app.CreateUserAsync("flood-ana@example.test");
        var (notifications, time) = Service(app);
        for (var i = 0; i < NotificationService.MaxKeptPerPerson + 3; i++)
        {
            await notifications.NotifyAsync(ana.Id, $"n {i}", null);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        var kept = await notifications.ListAsync(StudioAppFactory.PrincipalOf(ana), take: 500);
        Assert.Equal(NotificationService.MaxKeptPerPerson, kept.Count);
        Assert.Equal($"n {NotificationService.MaxKeptPerPerson + 2}", kept[0].Text);
        Assert.Equal("n 3", kept[^1].Text);
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("gallery?g=1")]
    [InlineData("javascript:alert(1)")]
    public async Task A_notification_links_only_to_a_page_of_this_app(string link)
    {
        using var app = NewApp();
        var ana = await app.CreateUserAsync("link-ana@example.test");
        var (notifications, _) = Service(app);

        await Assert.ThrowsAsync<ArgumentException>(() => notifications.NotifyAsync(ana.Id, "Look", link));

        Assert.Empty(await notifications.ListAsync(StudioAppFactory.PrincipalOf(ana)));
        Assert.True(NotificationService.IsLocal("/gallery?g=1&image=2"));
        Assert.False(NotificationService.IsLocal(link));
    }

    /// <summary>The app's notification service on its database and events, on a clock the test moves.</summary>
    private static (NotificationService Service, FakeTimeProvider Time) Service(StudioAppFactory app)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        return (new NotificationService(app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>(), app.Services.GetRequiredService<StudioNotifier>(),
            time, NullLogger<NotificationService>.Instance), time);
    }
}

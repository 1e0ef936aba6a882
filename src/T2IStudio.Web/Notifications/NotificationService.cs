using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Notifications;

/// <summary>One notification, as its recipient reads it.</summary>
/// <param name="Id">The notification.</param>
/// <param name="Text">What happened, in words for them.</param>
/// <param name="Link">A local link to what it is about, if any.</param>
/// <param name="CreatedAt">When (UTC).</param>
/// <param name="IsRead">Whether they marked it read.</param>
public sealed record NotificationView(Guid Id, string Text, string? Link, DateTimeOffset CreatedAt, bool IsRead);

/// <summary>
/// What a person is told (their image reviewed, say): kept in the database until they read it, and pushed to their
/// open pages at once (<see cref="NotificationAdded"/>).
/// </summary>
public sealed partial class NotificationService(IDbContextFactory<AppDbContext> dbFactory, StudioNotifier events, TimeProvider time, ILogger<NotificationService> logger)
{
    /// <summary>Longest text kept.</summary>
    public const int MaxTextLength = 500;

    /// <summary>Most notifications kept per person: adding one past it lets the oldest read ones go.</summary>
    public const int MaxKeptPerPerson = 200;

    /// <summary>
    /// Tells <paramref name="recipientId"/> <paramref name="text"/>, with a local <paramref name="link"/> to what it is
    /// about. A failure is logged, never thrown: the change it reports is already saved.
    /// </summary>
    public async Task NotifyAsync(string recipientId, string text, string? link, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipientId);
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (link is not null && !IsLocal(link))
        {
            throw new ArgumentException("A notification links only to a page of this app.", nameof(link));
        }
        var notification = new Notification
        {
            Id = Guid.NewGuid(),
            UserId = recipientId,
            CreatedAt = time.GetUtcNow(),
            Text = text.Length > MaxTextLength ? text[..(MaxTextLength - 1)] + "…" : text,
            Link = link,
        };
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            db.Notifications.Add(notification);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            LogNotifyFailed(logger, ex, recipientId);
            return;
        }
        events.Publish(new NotificationAdded(notification.Id, notification.Text, notification.Link, recipientId));
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await PruneAsync(db, recipientId, cancellationToken);
        }
        catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            // The next notification prunes again; this one is saved and told.
            LogPruneFailed(logger, ex, recipientId);
        }
    }

    /// <summary>The person's <paramref name="take"/> newest notifications, newest first (their own only).</summary>
    public async Task<IReadOnlyList<NotificationView>> ListAsync(ClaimsPrincipal user, int take = 20, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Notifications.AsNoTracking().Where(n => n.UserId == userId)
            .OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id)
            .Take(Math.Clamp(take, 1, MaxKeptPerPerson))
            .Select(n => new NotificationView(n.Id, n.Text, n.Link, n.CreatedAt, n.ReadAt != null))
            .ToListAsync(cancellationToken);
    }

    /// <summary>How many of the person's notifications are unread.</summary>
    public async Task<int> UnreadCountAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return 0;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Notifications.CountAsync(n => n.UserId == userId && n.ReadAt == null, cancellationToken);
    }

    /// <summary>Marks one of the person's notifications read; false when it is not theirs (or not there), as if missing.</summary>
    public async Task<bool> MarkReadAsync(ClaimsPrincipal user, Guid notificationId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return false;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var notification = await db.Notifications.SingleOrDefaultAsync(n => n.Id == notificationId && n.UserId == userId, cancellationToken);
        if (notification is null)
        {
            return false;
        }
        if (notification.ReadAt is null)
        {
            notification.ReadAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            // The person's other open pages (another tab, another node) bring their badge down too.
            events.Publish(new NotificationsRead(userId));
        }
        return true;
    }

    /// <summary>Marks all of the person's notifications read; returns how many were unread.</summary>
    public async Task<int> MarkAllReadAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return 0;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var marked = await db.Notifications.Where(n => n.UserId == userId && n.ReadAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), cancellationToken);
        if (marked > 0)
        {
            events.Publish(new NotificationsRead(userId));
        }
        return marked;
    }

    /// <summary>
    /// True for a path of this app: one leading slash, not "//" or "/\" (both of which browsers follow to another host).
    /// </summary>
    public static bool IsLocal(string link) =>
        link.Length > 0 && link[0] == '/' && (link.Length == 1 || (link[1] != '/' && link[1] != '\\'));

    /// <summary>
    /// Keeps at most <see cref="MaxKeptPerPerson"/> per person: the oldest read ones go first; only when what is
    /// left is still too many do the oldest unread ones go too (others can cause notifications, so the count must
    /// stay bounded).
    /// </summary>
    private static async Task PruneAsync(AppDbContext db, string userId, CancellationToken cancellationToken)
    {
        var excess = await db.Notifications.CountAsync(n => n.UserId == userId, cancellationToken) - MaxKeptPerPerson;
        if (excess <= 0)
        {
            return;
        }
        var doomed = await db.Notifications.Where(n => n.UserId == userId)
            .OrderBy(n => n.ReadAt == null).ThenBy(n => n.CreatedAt).ThenBy(n => n.Id)
            .Take(excess).Select(n => n.Id).ToListAsync(cancellationToken);
        await db.Notifications.Where(n => doomed.Contains(n.Id)).ExecuteDeleteAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A notification for user {UserId} could not be written")]
    private static partial void LogNotifyFailed(ILogger logger, Exception ex, string userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Old notifications of user {UserId} could not be pruned")]
    private static partial void LogPruneFailed(ILogger logger, Exception ex, string userId);
}

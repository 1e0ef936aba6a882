using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Notifications;

/// <summary>
/// What a person is told (their image reviewed, say): kept in the database until they read it, and pushed to their
/// open pages at once (<see cref="NotificationAdded"/>).
/// </summary>
public sealed partial class NotificationService(IDbContextFactory<AppDbContext> dbFactory, StudioNotifier events, TimeProvider time, ILogger<NotificationService> logger)
{
    /// <summary>Longest text kept.</summary>
    public const int MaxTextLength = 500;

    /// <summary>
    /// Tells <paramref name="recipientId"/> <paramref name="text"/>, with a local <paramref name="link"/> to what it is
    /// about. A failure is logged, never thrown: the change it reports is already saved.
    /// </summary>
    public async Task NotifyAsync(string recipientId, string text, string? link, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipientId);
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (link is not null && (!link.StartsWith('/') || link.StartsWith("//", StringComparison.Ordinal)))
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
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A notification for user {UserId} could not be written")]
    private static partial void LogNotifyFailed(ILogger logger, Exception ex, string userId);
}

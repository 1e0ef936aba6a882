using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;

namespace T2IStudio.Web.Email;

/// <summary>
/// Emails an image's author when someone approves it, requests changes to it, or comments on it, if the author
/// asked for these emails (<see cref="AppUser.EmailOnImageActivity"/>, off by default) and their address is confirmed
/// (so a mistyped or borrowed address never receives other people's words). Never to the person who acted, and only
/// while the author still sees the gallery it happened in. The review or comment is saved before this runs: a
/// failure here is logged and swallowed, never the caller's.
/// </summary>
public sealed partial class ImageActivityMail(IDbContextFactory<AppDbContext> dbFactory, StudioMail mail, GalleryAccess galleryAccess, ILogger<ImageActivityMail> logger)
{
    /// <summary>Longest part of a comment quoted in the email.</summary>
    public const int MaxQuotedLength = 500;

    /// <summary>
    /// Tells the author that <paramref name="reviewerName"/> set <paramref name="state"/> on their image. Called where
    /// the in-app notification is sent, after its decision (the author is not the reviewer and still sees the gallery).
    /// Setting an image back to Needs review sends nothing.
    /// </summary>
    public async Task ReviewedAsync(string authorId, string reviewerName, Guid galleryId, string galleryName, Guid imageId, ReviewState state)
    {
        var template = state switch
        {
            ReviewState.Approved => "ImageApproved",
            ReviewState.ChangesRequested => "ImageChangesRequested",
            _ => null,
        };
        if (template is null || !mail.IsEnabled)
        {
            return;
        }
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            await SendAsync(db, authorId, template, galleryId, imageId, new Dictionary<string, string> { ["reviewer"] = reviewerName, ["gallery"] = galleryName });
        }
        catch (Exception ex) when (IsMailFailure(ex))
        {
            LogFailed(logger, ex, template);
        }
    }

    /// <summary>
    /// Tells the image's author that <paramref name="commenterId"/> commented <paramref name="text"/> on it, naming a
    /// team gallery the commenter could comment in and the author still sees; nothing when there is none.
    /// </summary>
    public async Task CommentedAsync(string commenterId, Guid imageId, string text)
    {
        if (!mail.IsEnabled)
        {
            return;
        }
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var image = await db.Images.AsNoTracking().Where(i => i.Id == imageId)
                .Select(i => new { i.OwnerId, Commenter = db.Users.Where(u => u.Id == commenterId).Select(u => u.DisplayName).FirstOrDefault() })
                .SingleOrDefaultAsync();
            if (image is null || image.OwnerId == commenterId)
            {
                return;
            }
            // The galleries the comment could come from: the team galleries holding the image where the commenter edits.
            var galleries = await db.GalleryItems.AsNoTracking()
                .Where(i => i.ImageId == imageId && db.TeamMembers.Any(m => m.TeamId == i.Gallery!.TeamId && m.UserId == commenterId && m.Role >= TeamRole.Editor))
                .Select(i => new { i.GalleryId, i.Gallery!.Name })
                .ToListAsync();
            foreach (var gallery in galleries.OrderBy(g => g.GalleryId))
            {
                // The in-app rule for reviews: an author who no longer sees the gallery hears nothing of it.
                if (await galleryAccess.RoleAsync(image.OwnerId, gallery.GalleryId) is null)
                {
                    continue;
                }
                var quoted = text.Length > MaxQuotedLength ? text[..(MaxQuotedLength - 1)] + "…" : text;
                await SendAsync(db, image.OwnerId, "ImageComment", gallery.GalleryId, imageId, new Dictionary<string, string>
                {
                    ["commenter"] = string.IsNullOrWhiteSpace(image.Commenter) ? "Someone" : image.Commenter,
                    ["gallery"] = gallery.Name,
                    ["comment"] = quoted,
                });
                return;
            }
        }
        catch (Exception ex) when (IsMailFailure(ex))
        {
            LogFailed(logger, ex, "ImageComment");
        }
    }

    private async Task SendAsync(AppDbContext db, string authorId, string template, Guid galleryId, Guid imageId, Dictionary<string, string> values)
    {
        var author = await db.Users.AsNoTracking().Where(u => u.Id == authorId)
            .Select(u => new { u.Email, u.DisplayName, u.EmailConfirmed, u.EmailOnImageActivity, u.IsDisabled })
            .SingleOrDefaultAsync();
        if (author is not { EmailOnImageActivity: true, EmailConfirmed: true, IsDisabled: false } || string.IsNullOrWhiteSpace(author.Email))
        {
            return;
        }
        values["name"] = author.DisplayName;
        // The same page the in-app notification opens.
        values["link"] = mail.Link($"/gallery?g={galleryId}&image={imageId}").AbsoluteUri;
        values["settings"] = mail.Link("/Account/Manage").AbsoluteUri;
        mail.Send(template, author.Email, author.DisplayName, values);
    }

    private static bool IsMailFailure(Exception ex) =>
        ex is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or FormatException or TimeoutException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The '{Template}' email could not be prepared; the change it reports is saved")]
    private static partial void LogFailed(ILogger logger, Exception exception, string template);
}

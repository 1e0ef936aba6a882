using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Email;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;

namespace T2IStudio.Web.Comments;

/// <summary>A comment as the lightbox shows it.</summary>
/// <param name="Id">The comment.</param>
/// <param name="AuthorName">Who wrote it.</param>
/// <param name="Text">What they wrote.</param>
/// <param name="CreatedAt">When.</param>
/// <param name="EditedAt">When it was last edited.</param>
/// <param name="IsMine">The reader wrote it and may edit or delete it (never a review entry).</param>
/// <param name="Review">For a review entry ("Ana approved this"), the state its author set; null for a written comment.</param>
/// <param name="GalleryName">For a review entry, the gallery it was reviewed in (entries of a deleted gallery are not listed).</param>
public sealed record CommentView(Guid Id, string AuthorName, string Text, DateTimeOffset CreatedAt, DateTimeOffset? EditedAt, bool IsMine,
    ReviewState? Review = null, string? GalleryName = null);

/// <summary>
/// Comments on images. Whoever may see an image reads its comments; its owner and the editors and owners of a
/// team gallery holding it may comment; only the author edits or deletes a comment, and nobody a review entry
/// (written by <see cref="Galleries.ReviewService"/>). Changes reach everyone who
/// sees the image, and the galleries holding it refresh; a new comment is emailed to the image's author when they
/// asked for that (<see cref="ImageActivityMail"/>).
/// </summary>
public sealed class CommentService(IDbContextFactory<AppDbContext> dbFactory, ResourceAccess access, EventAudience audience, StudioNotifier events, TeamActivityLog activity,
    ImageActivityMail activityMail, TimeProvider time)
{
    /// <summary>Longest comment.</summary>
    public const int MaxLength = 2000;

    /// <summary>The image's comments, oldest first; empty when the person may not see the image.</summary>
    public async Task<IReadOnlyList<CommentView>> ListAsync(ClaimsPrincipal user, Guid imageId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.Images.AsNoTracking().SingleOrDefaultAsync(i => i.Id == imageId, cancellationToken);
        if (!await access.AllowsAsync(user, image, ResourceOperations.Read))
        {
            return [];
        }
        var userId = ResourceAccess.UserId(user);
        // A review entry is shown only while the gallery it was made in exists, to those who see that gallery: another
        // team's review stays theirs, also once their gallery is deleted (the entry's gallery then reads as null).
        return await db.Comments.AsNoTracking().Where(c => c.ImageId == imageId)
            .Where(c => c.Review == null || (c.GalleryId != null && (c.Gallery!.OwnerUserId == userId
                || db.TeamMembers.Any(m => m.TeamId == c.Gallery!.TeamId && m.UserId == userId))))
            .OrderBy(c => c.CreatedAt)
            .Select(c => new CommentView(c.Id, c.Author!.DisplayName, c.Text, c.CreatedAt, c.EditedAt, c.AuthorId == userId && c.Review == null,
                c.Review, c.Gallery == null ? null : c.Gallery.Name))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Whether the person may comment on the image.</summary>
    public async Task<bool> CanCommentAsync(ClaimsPrincipal user, Guid imageId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return false;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await CanCommentAsync(db, userId, imageId, cancellationToken);
    }

    /// <summary>Adds a comment.</summary>
    public async Task<ChangeResult> AddAsync(ClaimsPrincipal user, Guid imageId, string? text, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Missing;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.Images.AsNoTracking().SingleOrDefaultAsync(i => i.Id == imageId, cancellationToken);
        if (!await access.AllowsAsync(user, image, ResourceOperations.Read))
        {
            return ChangeResult.Missing;
        }
        if (!await CanCommentAsync(db, userId, imageId, cancellationToken))
        {
            return ChangeResult.Refused("Viewers cannot comment here.");
        }
        if (Validate(text) is { } error)
        {
            return ChangeResult.Refused(error);
        }
        var comment = new Comment { Id = Guid.NewGuid(), ImageId = imageId, AuthorId = userId, Text = text!.Trim(), CreatedAt = time.GetUtcNow() };
        db.Comments.Add(comment);
        await db.SaveChangesAsync(cancellationToken);
        await TellAsync(image!.Id, cancellationToken);
        // Each team whose gallery holds the image sees the comment in its feed (once per team, naming one of its galleries).
        var holders = await db.GalleryItems.AsNoTracking().Where(i => i.ImageId == imageId && i.Gallery!.TeamId != null)
            .Select(i => new { i.GalleryId, TeamId = i.Gallery!.TeamId!.Value }).ToListAsync(cancellationToken);
        await activity.RecordAsync([.. holders.GroupBy(h => h.TeamId).Select(team =>
            new ActivityRecord(team.Key, userId, TeamActivityKind.Commented, team.OrderBy(h => h.GalleryId).First().GalleryId, imageId, Detail: comment.Text))], cancellationToken);
        await activityMail.CommentedAsync(userId, imageId, comment.Text);
        return new ChangeResult(comment.Id, []);
    }

    /// <summary>Changes the text of one's own comment.</summary>
    public Task<ChangeResult> EditAsync(ClaimsPrincipal user, Guid commentId, string? text, CancellationToken cancellationToken = default) =>
        ChangeOwnAsync(user, commentId, (db, comment) =>
        {
            if (Validate(text) is { } error)
            {
                return error;
            }
            comment.Text = text!.Trim();
            comment.EditedAt = time.GetUtcNow();
            return null;
        }, cancellationToken);

    /// <summary>Deletes one's own comment.</summary>
    public Task<ChangeResult> DeleteAsync(ClaimsPrincipal user, Guid commentId, CancellationToken cancellationToken = default) =>
        ChangeOwnAsync(user, commentId, (db, comment) =>
        {
            db.Comments.Remove(comment);
            return null;
        }, cancellationToken);

    private static string? Validate(string? text) =>
        string.IsNullOrWhiteSpace(text) ? "Write something first."
        : text.Trim().Length > MaxLength ? $"A comment has at most {MaxLength} characters."
        : text.Contains('\0', StringComparison.Ordinal) ? "A comment cannot contain the NUL character (U+0000)."
        : null;

    private async Task<ChangeResult> ChangeOwnAsync(ClaimsPrincipal user, Guid commentId, Func<AppDbContext, Comment, string?> change, CancellationToken cancellationToken)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Missing;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var comment = await db.Comments.Include(c => c.Image).SingleOrDefaultAsync(c => c.Id == commentId, cancellationToken);
        if (comment is null || !await access.AllowsAsync(user, comment.Image, ResourceOperations.Read))
        {
            return ChangeResult.Missing;
        }
        if (comment.Review is not null)
        {
            // The record of who reviewed what: setting another state writes a new entry instead.
            return ChangeResult.Refused("A review entry cannot be edited or deleted.");
        }
        if (comment.AuthorId != userId)
        {
            return ChangeResult.Refused("Only its author can change a comment.");
        }
        var quoted = TeamActivityLog.Clip(comment.Text);
        if (change(db, comment) is { } error)
        {
            return ChangeResult.Refused(error);
        }
        var deleted = db.Entry(comment).State == EntityState.Deleted;
        await db.SaveChangesAsync(cancellationToken);
        // The team feeds quote the comment: an edit changes the quote, a delete takes it away (the entry stays, wordless).
        var requoted = deleted ? null : TeamActivityLog.Clip(comment.Text);
        await db.TeamActivities.Where(a => a.Kind == TeamActivityKind.Commented && a.ImageId == comment.ImageId && a.ActorId == userId && a.Detail == quoted)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.Detail, requoted), cancellationToken);
        await TellAsync(comment.ImageId, cancellationToken);
        return new ChangeResult(commentId, []);
    }

    private static async Task<bool> CanCommentAsync(AppDbContext db, string userId, Guid imageId, CancellationToken cancellationToken)
    {
        if (await db.Images.AnyAsync(i => i.Id == imageId && i.OwnerId == userId, cancellationToken))
        {
            return true;
        }
        return await db.GalleryItems.AnyAsync(i => i.ImageId == imageId
            && db.TeamMembers.Any(m => m.TeamId == i.Gallery!.TeamId && m.UserId == userId && m.Role >= TeamRole.Editor), cancellationToken);
    }

    /// <summary>Tells the image's owner and everyone who sees a gallery holding it; those galleries refresh.</summary>
    private async Task TellAsync(Guid imageId, CancellationToken cancellationToken)
    {
        var told = await audience.OfImageAsync(imageId, cancellationToken);
        foreach (var (galleryId, people) in told.Galleries)
        {
            foreach (var recipient in people)
            {
                events.Publish(new GalleryUpdated(galleryId, recipient));
            }
        }
        foreach (var recipient in told.People)
        {
            events.Publish(new CommentsChanged(imageId, recipient));
        }
    }
}

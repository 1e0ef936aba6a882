using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Email;
using T2IStudio.Web.Notifications;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;

namespace T2IStudio.Web.Galleries;

/// <summary>Where an item of a reviewed gallery stands, as the viewer shows it.</summary>
/// <param name="State">Its state (an item added while review was off reads as Needs review).</param>
/// <param name="ReviewedBy">Who last set it (display name), or null when nobody has.</param>
/// <param name="ReviewedAt">When it was last set, or null when nobody has.</param>
/// <param name="CanReview">The reader may set it (the gallery's owners and editors).</param>
public sealed record ReviewView(ReviewState State, string? ReviewedBy, DateTimeOffset? ReviewedAt, bool CanReview);

/// <summary>
/// Review in team galleries: owners switch it on, then owners and editors mark each item Approved or Changes
/// requested (or back to Needs review); viewers see the state. Each change writes a review entry among the image's
/// comments, records team activity, tells the image's author (by email too, if they asked), and reaches every open view of the gallery and image.
/// Someone else's gallery or image reads as missing.
/// </summary>
public sealed class ReviewService(IDbContextFactory<AppDbContext> dbFactory, IAuthorizationService authorization, GalleryAccess galleryAccess, EventAudience audience,
    StudioNotifier events, TeamActivityLog activity, NotificationService notifications, ImageActivityMail activityMail, TimeProvider time)
{
    /// <summary>
    /// How long a reviewer's latest entry on an item takes further changes by the same reviewer: toggling states
    /// within it updates that entry instead of adding one, and tells the author only once.
    /// </summary>
    public static readonly TimeSpan MergeWindow = TimeSpan.FromMinutes(5);

    /// <summary>The label of a state, as chips, filters and badges show it.</summary>
    public static string LabelOf(ReviewState state) => state switch
    {
        ReviewState.Approved => "Approved",
        ReviewState.ChangesRequested => "Changes requested",
        _ => "Needs review",
    };

    /// <summary>
    /// Switches review on or off in a team gallery (its owners). Switching it on marks every item that has no state
    /// yet as Needs review; states already set are kept either way.
    /// </summary>
    public async Task<ChangeResult> SetReviewRequiredAsync(ClaimsPrincipal user, Guid galleryId, bool required, CancellationToken cancellationToken = default)
    {
        if (!await authorization.AllowsAsync(user, galleryId, GalleryOperations.View))
        {
            return ChangeResult.Missing;
        }
        if (!await authorization.AllowsAsync(user, galleryId, GalleryOperations.Manage))
        {
            return ChangeResult.Refused("Only the gallery's owners can switch review on or off.");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var gallery = await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => new { g.TeamId, g.ReviewRequired }).SingleOrDefaultAsync(cancellationToken);
        if (gallery is null)
        {
            return ChangeResult.Missing;
        }
        if (gallery.TeamId is null)
        {
            return ChangeResult.Refused("Review is for team galleries: a private gallery has nobody else to review it.");
        }
        if (gallery.ReviewRequired != required)
        {
            // Both in one transaction: nobody sees review on with items still lacking a state.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Galleries.Where(g => g.Id == galleryId).ExecuteUpdateAsync(u => u.SetProperty(g => g.ReviewRequired, required), cancellationToken);
            if (required)
            {
                await db.GalleryItems.Where(i => i.GalleryId == galleryId && i.ReviewState == null)
                    .ExecuteUpdateAsync(u => u.SetProperty(i => i.ReviewState, (ReviewState?)ReviewState.NeedsReview), cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        foreach (var recipient in await audience.OfGalleryAsync(galleryId, cancellationToken))
        {
            events.Publish(new GalleryUpdated(galleryId, recipient));
        }
        return new ChangeResult(galleryId, []);
    }

    /// <summary>
    /// Sets an item's review state (owners and editors of a gallery with review on). Setting the state it already
    /// has changes nothing and writes no entry.
    /// </summary>
    public async Task<ChangeResult> SetStateAsync(ClaimsPrincipal user, Guid galleryId, Guid imageId, ReviewState state, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId || !Enum.IsDefined(state)
            || !await authorization.AllowsAsync(user, galleryId, GalleryOperations.View))
        {
            return ChangeResult.Missing;
        }
        if (!await authorization.AllowsAsync(user, galleryId, GalleryOperations.AddImages))
        {
            return ChangeResult.Refused("Viewers cannot review images.");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var gallery = await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => new { g.Name, g.TeamId, g.ReviewRequired }).SingleOrDefaultAsync(cancellationToken);
        if (gallery is null)
        {
            return ChangeResult.Missing;
        }
        if (!gallery.ReviewRequired)
        {
            return ChangeResult.Refused("Review is off in this gallery.");
        }
        var written = await WriteAsync(db, galleryId, imageId, state, userId, cancellationToken);
        if (written == Written.ReviewOff)
        {
            return ChangeResult.Refused("Review is off in this gallery.");
        }
        if (written == Written.Nothing)
        {
            return await db.GalleryItems.AnyAsync(i => i.GalleryId == galleryId && i.ImageId == imageId, cancellationToken)
                ? new ChangeResult(imageId, [])
                : ChangeResult.Missing;
        }
        await TellAsync(galleryId, imageId, cancellationToken);
        if (gallery.TeamId is { } teamId)
        {
            // The feed records every change, merged or not: it is the team's log of what happened.
            await activity.RecordAsync(new ActivityRecord(teamId, userId, TeamActivityKind.Reviewed, galleryId, imageId, Detail: state.ToString()), cancellationToken);
        }
        if (written == Written.Merged)
        {
            // The author heard of this reviewer's entry minutes ago; the entry itself now shows where it ended.
            return new ChangeResult(imageId, []);
        }
        var people = await db.Images.AsNoTracking().Where(i => i.Id == imageId)
            .Select(i => new { i.OwnerId, Reviewer = db.Users.Where(u => u.Id == userId).Select(u => u.DisplayName).FirstOrDefault() })
            .SingleOrDefaultAsync(cancellationToken);
        // An author who no longer sees the gallery (left or removed from its team) is not told about it, nor linked to it.
        if (people is not null && people.OwnerId != userId && await galleryAccess.RoleAsync(people.OwnerId, galleryId, cancellationToken) is not null)
        {
            var reviewer = string.IsNullOrWhiteSpace(people.Reviewer) ? "Someone" : people.Reviewer;
            var text = state switch
            {
                ReviewState.Approved => $"{reviewer} approved your image in {gallery.Name}",
                ReviewState.ChangesRequested => $"{reviewer} requested changes to your image in {gallery.Name}",
                _ => $"{reviewer} marked your image as needing review in {gallery.Name}",
            };
            await notifications.NotifyAsync(people.OwnerId, text, $"/gallery?g={galleryId}&image={imageId}", cancellationToken);
            await activityMail.ReviewedAsync(people.OwnerId, reviewer, galleryId, gallery.Name, imageId, state);
        }
        return new ChangeResult(imageId, []);
    }

    /// <summary>What <see cref="WriteAsync"/> did.</summary>
    private enum Written
    {
        /// <summary>Nothing: the item is missing or already in that state.</summary>
        Nothing,

        /// <summary>Nothing: review was switched off before the change was made.</summary>
        ReviewOff,

        /// <summary>The state changed and a new review entry was written.</summary>
        Added,

        /// <summary>The state changed and the reviewer's own recent entry was updated (<see cref="MergeWindow"/>).</summary>
        Merged,
    }

    /// <summary>
    /// Sets the state with who and when, and writes its review entry, in one transaction. The conditional update
    /// decides a race: of two reviewers setting the same state only one changes the row (PostgreSQL re-checks the
    /// WHERE once the first one's row lock is released; SQLite runs one writer at a time), and every state written
    /// comes with exactly one entry. The time is read after that update, while the row is held, so entries are in the
    /// order their states were written and the newest entry always agrees with the item; and review is checked again
    /// there, so a switch-off that committed meanwhile wins instead of a change landing in a gallery without review.
    /// </summary>
    private async Task<Written> WriteAsync(AppDbContext db, Guid galleryId, Guid imageId, ReviewState state, string userId, CancellationToken cancellationToken)
    {
        var target = (ReviewState?)state;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var updated = await db.GalleryItems
            .Where(i => i.GalleryId == galleryId && i.ImageId == imageId && (i.ReviewState == null || i.ReviewState != target))
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.ReviewState, target).SetProperty(i => i.ReviewedById, userId), cancellationToken);
        if (updated == 0)
        {
            return Written.Nothing;
        }
        if (!await db.Galleries.AnyAsync(g => g.Id == galleryId && g.ReviewRequired, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return Written.ReviewOff;
        }
        var now = time.GetUtcNow();
        await db.GalleryItems.Where(i => i.GalleryId == galleryId && i.ImageId == imageId)
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.ReviewedAt, now), cancellationToken);
        var latest = await db.Comments.Where(c => c.ImageId == imageId && c.GalleryId == galleryId && c.Review != null)
            .OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).FirstOrDefaultAsync(cancellationToken);
        var written = Written.Added;
        if (latest is not null && latest.AuthorId == userId && now - latest.CreatedAt < MergeWindow)
        {
            // The same reviewer changing their mind: one entry showing where they ended, not one per click.
            latest.Review = state;
            latest.CreatedAt = now;
            written = Written.Merged;
        }
        else
        {
            db.Comments.Add(new Comment { Id = Guid.NewGuid(), ImageId = imageId, AuthorId = userId, Text = "", CreatedAt = now, Review = state, GalleryId = galleryId });
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return written;
    }

    /// <summary>The item's review, or null when the person cannot see it, it is not in the gallery, or review is off there.</summary>
    public async Task<ReviewView?> GetAsync(ClaimsPrincipal user, Guid galleryId, Guid imageId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is null || !await authorization.AllowsAsync(user, galleryId, GalleryOperations.View))
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var item = await db.GalleryItems.AsNoTracking()
            .Where(i => i.GalleryId == galleryId && i.ImageId == imageId && i.Gallery!.ReviewRequired)
            .Select(i => new { i.ReviewState, i.ReviewedAt, ReviewedBy = db.Users.Where(u => u.Id == i.ReviewedById).Select(u => u.DisplayName).FirstOrDefault() })
            .SingleOrDefaultAsync(cancellationToken);
        if (item is null)
        {
            return null;
        }
        var canReview = await authorization.AllowsAsync(user, galleryId, GalleryOperations.AddImages);
        return new ReviewView(item.ReviewState ?? ReviewState.NeedsReview, item.ReviewedBy, item.ReviewedAt, canReview);
    }

    /// <summary>
    /// Everyone who sees the gallery hears <see cref="ReviewChanged"/>; everyone who sees the image hears that its
    /// comments changed (the review entry), and the galleries holding it refresh.
    /// </summary>
    private async Task TellAsync(Guid galleryId, Guid imageId, CancellationToken cancellationToken)
    {
        foreach (var recipient in await audience.OfGalleryAsync(galleryId, cancellationToken))
        {
            events.Publish(new ReviewChanged(galleryId, imageId, recipient));
        }
        var told = await audience.OfImageAsync(imageId, cancellationToken);
        foreach (var (holder, people) in told.Galleries)
        {
            foreach (var recipient in people)
            {
                events.Publish(new GalleryUpdated(holder, recipient));
            }
        }
        foreach (var recipient in told.People)
        {
            events.Publish(new CommentsChanged(imageId, recipient));
        }
    }
}

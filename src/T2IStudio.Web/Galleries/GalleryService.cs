using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Images;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Teams;

namespace T2IStudio.Web.Galleries;

/// <summary>A gallery as the picker lists it.</summary>
/// <param name="Id">The gallery.</param>
/// <param name="Name">Its name.</param>
/// <param name="TeamId">Its team, or null for a private gallery.</param>
/// <param name="TeamName">Its team's name.</param>
/// <param name="MyRole">What the reader may do (Owner for their private galleries).</param>
/// <param name="ItemCount">Images in it.</param>
/// <param name="ReviewRequired">Its owners switched review on (team galleries only).</param>
public sealed record GallerySummary(Guid Id, string Name, Guid? TeamId, string? TeamName, TeamRole MyRole, int ItemCount, bool ReviewRequired = false)
{
    /// <summary>The name with its team, as pickers show it.</summary>
    public string Label => TeamName is null ? Name : $"{Name} ({TeamName})";

    /// <summary>The reader may add and remove images.</summary>
    public bool CanEdit => MyRole >= TeamRole.Editor;
}

/// <summary>An image in a gallery, with when it was added (the order of a gallery's items).</summary>
/// <param name="Image">The image's tile.</param>
/// <param name="AddedAt">When it was added to the gallery.</param>
public sealed record GalleryItemTile(ImageTile Image, DateTimeOffset AddedAt);

/// <summary>
/// Named galleries: private ones owned by a person, team ones seen by the team's members. Roles come from the
/// team (or Owner for your own); adding shares an image with the team without copying its file. Every call
/// checks the gallery operation through <see cref="IAuthorizationService"/> (<see cref="GalleryOperations"/>), which
/// reads the caller's role from the database; someone else's gallery reads as missing.
/// </summary>
public sealed class GalleryService(IDbContextFactory<AppDbContext> dbFactory, IAuthorizationService authorization, EventAudience audience, StudioNotifier events, ImageStore store, TeamActivityLog activity, TimeProvider time)
{
    /// <summary>Every gallery the person can see, private ones first, then by team and name.</summary>
    public async Task<IReadOnlyList<GallerySummary>> ListAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var mine = await db.Galleries.AsNoTracking().Where(g => g.OwnerUserId == userId)
            .Select(g => new GallerySummary(g.Id, g.Name, null, null, TeamRole.Owner, g.Items.Count, g.ReviewRequired)).ToListAsync(cancellationToken);
        var shared = await (from g in db.Galleries.AsNoTracking()
                            join m in db.TeamMembers on g.TeamId equals m.TeamId
                            where m.UserId == userId
                            select new GallerySummary(g.Id, g.Name, g.TeamId, g.Team!.Name, m.Role, g.Items.Count, g.ReviewRequired)).ToListAsync(cancellationToken);
        return [.. mine.OrderBy(g => g.Name, StringComparer.CurrentCultureIgnoreCase),
            .. shared.OrderBy(g => g.TeamName, StringComparer.CurrentCultureIgnoreCase).ThenBy(g => g.Name, StringComparer.CurrentCultureIgnoreCase)];
    }

    /// <summary>One gallery the person can see, or null.</summary>
    public async Task<GallerySummary?> GetAsync(ClaimsPrincipal user, Guid galleryId, CancellationToken cancellationToken = default) =>
        (await ListAsync(user, cancellationToken)).FirstOrDefault(g => g.Id == galleryId);

    /// <summary>Creates a private gallery, or a team gallery when <paramref name="teamId"/> is given (team editors and owners).</summary>
    public async Task<ChangeResult> CreateAsync(ClaimsPrincipal user, string? name, Guid? teamId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Refused("Sign in to create a gallery.");
        }
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > TeamService.MaxNameLength)
        {
            return ChangeResult.Refused($"A gallery needs a name of 1 to {TeamService.MaxNameLength} characters.");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (teamId is { } team)
        {
            var role = await db.TeamMembers.Where(m => m.TeamId == team && m.UserId == userId).Select(m => (TeamRole?)m.Role).SingleOrDefaultAsync(cancellationToken);
            if (role is null)
            {
                return ChangeResult.Missing;
            }
            if (role < TeamRole.Editor)
            {
                return ChangeResult.Refused("Viewers cannot create galleries.");
            }
        }
        var gallery = new Gallery { Id = Guid.NewGuid(), Name = name.Trim(), OwnerUserId = teamId is null ? userId : null, TeamId = teamId, CreatedAt = time.GetUtcNow() };
        db.Galleries.Add(gallery);
        await db.SaveChangesAsync(cancellationToken);
        await TellAsync(gallery.Id, cancellationToken);
        return new ChangeResult(gallery.Id, []);
    }

    /// <summary>Renames a gallery (its owners: the person for a private one, the team's owners for a team one).</summary>
    public async Task<ChangeResult> RenameAsync(ClaimsPrincipal user, Guid galleryId, string? name, CancellationToken cancellationToken = default)
    {
        if (await RefusalAsync(user, galleryId, GalleryOperations.Manage, "Only the gallery's owners can rename it.") is { } refusal)
        {
            return refusal;
        }
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > TeamService.MaxNameLength)
        {
            return ChangeResult.Refused($"A gallery needs a name of 1 to {TeamService.MaxNameLength} characters.");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var trimmed = name.Trim();
        await db.Galleries.Where(g => g.Id == galleryId).ExecuteUpdateAsync(u => u.SetProperty(g => g.Name, trimmed), cancellationToken);
        await TellAsync(galleryId, cancellationToken);
        return new ChangeResult(galleryId, []);
    }

    /// <summary>Deletes a gallery (its owners); the images in it stay with the people who made them.</summary>
    public async Task<ChangeResult> DeleteAsync(ClaimsPrincipal user, Guid galleryId, CancellationToken cancellationToken = default)
    {
        if (await RefusalAsync(user, galleryId, GalleryOperations.Manage, "Only the gallery's owners can delete it.") is { } refusal)
        {
            return refusal;
        }
        // Who saw it must be read before it goes: afterwards nobody does.
        var recipients = await audience.OfGalleryAsync(galleryId, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var held = await db.GalleryItems.Where(i => i.GalleryId == galleryId).Select(i => i.ImageId).ToListAsync(cancellationToken);
        await db.Galleries.Where(g => g.Id == galleryId).ExecuteDeleteAsync(cancellationToken);
        await ImageLibrary.PurgeOrphansAsync(db, store, held, cancellationToken);
        foreach (var recipient in recipients)
        {
            events.Publish(new GalleryUpdated(galleryId, recipient));
        }
        return new ChangeResult(galleryId, []);
    }

    /// <summary>Adds one of the person's own images to a gallery they may edit.</summary>
    public async Task<ChangeResult> AddAsync(ClaimsPrincipal user, Guid galleryId, Guid imageId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Missing;
        }
        if (await RefusalAsync(user, galleryId, GalleryOperations.AddImages, "Viewers cannot add images to this gallery.") is { } refusal)
        {
            return refusal;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Images.AnyAsync(i => i.Id == imageId && i.OwnerId == userId, cancellationToken))
        {
            return ChangeResult.Missing;
        }
        if (!await db.GalleryItems.AnyAsync(i => i.GalleryId == galleryId && i.ImageId == imageId, cancellationToken))
        {
            var gallery = await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => new { g.TeamId, g.ReviewRequired }).SingleAsync(cancellationToken);
            db.GalleryItems.Add(new GalleryItem
            {
                GalleryId = galleryId,
                ImageId = imageId,
                AddedById = userId,
                AddedAt = time.GetUtcNow(),
                ReviewState = gallery.ReviewRequired ? ReviewState.NeedsReview : null,
            });
            await db.SaveChangesAsync(cancellationToken);
            await TellAsync(galleryId, cancellationToken);
            if (gallery.TeamId is { } teamId)
            {
                await activity.RecordAsync(new ActivityRecord(teamId, userId, TeamActivityKind.Added, galleryId, imageId), cancellationToken);
            }
        }
        return new ChangeResult(galleryId, []);
    }

    /// <summary>Takes an image out of a gallery (editors and owners); the image itself stays.</summary>
    public async Task<ChangeResult> RemoveAsync(ClaimsPrincipal user, Guid galleryId, Guid imageId, CancellationToken cancellationToken = default)
    {
        if (await RefusalAsync(user, galleryId, GalleryOperations.AddImages, "Viewers cannot remove images from this gallery.") is { } refusal)
        {
            return refusal;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var teamId = await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => g.TeamId).SingleOrDefaultAsync(cancellationToken);
        var removed = await db.GalleryItems.Where(i => i.GalleryId == galleryId && i.ImageId == imageId).ExecuteDeleteAsync(cancellationToken);
        if (removed == 0)
        {
            return ChangeResult.Missing;
        }
        // Recorded before the image may go (a purged image's entry keeps its words, not its link).
        if (teamId is { } team && ResourceAccess.UserId(user) is { } actorId)
        {
            await activity.RecordAsync(new ActivityRecord(team, actorId, TeamActivityKind.Removed, galleryId, imageId), cancellationToken);
        }
        await ImageLibrary.PurgeOrphansAsync(db, store, [imageId], cancellationToken);
        await TellAsync(galleryId, cancellationToken);
        return new ChangeResult(galleryId, []);
    }

    /// <summary>A page of a gallery's images, most recently added first, and how many match in all.</summary>
    public async Task<(IReadOnlyList<ImageTile> Tiles, int Total)> PageAsync(ClaimsPrincipal user, Guid galleryId, GalleryFilter filter, int skip, int take, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (ResourceAccess.UserId(user) is not { } userId || !await authorization.AllowsAsync(user, galleryId, GalleryOperations.View))
        {
            return ([], 0);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var items = ItemsOf(db, galleryId, filter, userId);
        var total = await items.CountAsync(cancellationToken);
        var reviewed = await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => g.ReviewRequired).SingleOrDefaultAsync(cancellationToken);
        var tiles = await items.OrderByDescending(x => x.AddedAt).ThenBy(x => x.Image.Id)
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 500))
            .Select(x => new ImageTile(x.Image.Id, x.Image.Prompt, x.Image.Model, x.Image.Width, x.Image.Height, x.Image.CreatedAt,
                db.Favorites.Any(f => f.ImageId == x.Image.Id && f.UserId == userId), x.Review))
            .ToListAsync(cancellationToken);
        // Tiles carry a state only where review is on (a state kept from before it was switched off is not shown).
        return ([.. tiles.Select(t => t with { Review = reviewed ? t.Review ?? ReviewState.NeedsReview : null })], total);
    }

    /// <summary>
    /// Up to <paramref name="take"/> of a gallery's images, most recently added first (ties by image id), after
    /// <paramref name="after"/> (from the start when null): keyset paging for the API. Null when the person cannot see
    /// the gallery (someone else's reads as missing).
    /// </summary>
    public async Task<IReadOnlyList<GalleryItemTile>?> ItemsAfterAsync(ClaimsPrincipal user, Guid galleryId, GalleryFilter filter, KeysetPosition? after, int take, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (ResourceAccess.UserId(user) is not { } userId || !await authorization.AllowsAsync(user, galleryId, GalleryOperations.View))
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var items = ItemsOf(db, galleryId, filter, userId);
        if (after is { } position)
        {
            var at = position.At;
            var id = position.Id;
            items = items.Where(x => x.AddedAt < at || (x.AddedAt == at && x.Image.Id.CompareTo(id) > 0));
        }
        var rows = await items.OrderByDescending(x => x.AddedAt).ThenBy(x => x.Image.Id)
            .Take(Math.Clamp(take, 1, 500))
            .Select(x => new
            {
                x.AddedAt,
                Tile = new ImageTile(x.Image.Id, x.Image.Prompt, x.Image.Model, x.Image.Width, x.Image.Height, x.Image.CreatedAt,
                    db.Favorites.Any(f => f.ImageId == x.Image.Id && f.UserId == userId)),
            })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => new GalleryItemTile(r.Tile, r.AddedAt))];
    }

    /// <summary>A gallery's items that pass <paramref name="filter"/>, each image with when it was added.</summary>
    private static IQueryable<GalleryItemRow> ItemsOf(AppDbContext db, Guid galleryId, GalleryFilter filter, string viewerId)
    {
        var items = db.GalleryItems.AsNoTracking().Where(i => i.GalleryId == galleryId);
        if (filter.Review is { } review)
        {
            // An item added while review was off has no state yet: it reads as Needs review.
            items = review == ReviewState.NeedsReview
                ? items.Where(i => i.ReviewState == null || i.ReviewState == ReviewState.NeedsReview)
                : items.Where(i => i.ReviewState == review);
        }
        return from item in items
               join image in ImageLibrary.Filter(db, ownerId: null, filter, viewerId) on item.ImageId equals image.Id
               select new GalleryItemRow { AddedAt = item.AddedAt, Review = item.ReviewState, Image = image };
    }

    // Member initialisers (not a constructor), so EF Core can keep composing queries on its members.
    private sealed class GalleryItemRow
    {
        public DateTimeOffset AddedAt { get; init; }

        public ReviewState? Review { get; init; }

        public required GeneratedImage Image { get; init; }
    }

    /// <summary>The galleries the person can see that hold <paramref name="imageId"/>.</summary>
    public async Task<IReadOnlyList<Guid>> HoldingAsync(ClaimsPrincipal user, Guid imageId, CancellationToken cancellationToken = default)
    {
        var visible = (await ListAsync(user, cancellationToken)).Select(g => g.Id).ToList();
        if (visible.Count == 0)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.GalleryItems.AsNoTracking().Where(i => i.ImageId == imageId && visible.Contains(i.GalleryId))
            .Select(i => i.GalleryId).ToListAsync(cancellationToken);
    }

    /// <summary>The galleries the person may add to ("Save to"), private first.</summary>
    public async Task<IReadOnlyList<GallerySummary>> WritableAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default) =>
        [.. (await ListAsync(user, cancellationToken)).Where(g => g.CanEdit)];

    /// <summary>How many galleries hold one of the person's own images (0 for anyone else's).</summary>
    public async Task<int> CountHoldingAsync(ClaimsPrincipal user, Guid imageId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return 0;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.GalleryItems.CountAsync(i => i.ImageId == imageId && i.Image!.OwnerId == userId, cancellationToken);
    }

    /// <summary>
    /// Null when the person may do <paramref name="operation"/>; otherwise Missing when they cannot even see the
    /// gallery (someone else's reads as missing, never forbidden), or <paramref name="refusal"/>.
    /// </summary>
    private async Task<ChangeResult?> RefusalAsync(ClaimsPrincipal user, Guid galleryId, GalleryRequirement operation, string refusal)
    {
        if (!await authorization.AllowsAsync(user, galleryId, GalleryOperations.View))
        {
            return ChangeResult.Missing;
        }
        return await authorization.AllowsAsync(user, galleryId, operation) ? null : ChangeResult.Refused(refusal);
    }

    private async Task TellAsync(Guid galleryId, CancellationToken cancellationToken)
    {
        foreach (var recipient in await audience.OfGalleryAsync(galleryId, cancellationToken))
        {
            events.Publish(new GalleryUpdated(galleryId, recipient));
        }
    }
}

using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Images;

/// <summary>What the gallery shows.</summary>
/// <param name="Search">Words the prompt must contain (prefix match), or empty.</param>
/// <param name="Model">Only this model, or null.</param>
/// <param name="Since">Only images made at or after this instant, or null.</param>
/// <param name="FavoritesOnly">Only starred images.</param>
/// <param name="Review">In a named gallery, only items in this review state (an item without one counts as Needs review); null for all.</param>
public sealed record GalleryFilter(string? Search = null, string? Model = null, DateTimeOffset? Since = null, bool FavoritesOnly = false, ReviewState? Review = null);

/// <summary>
/// Where a newest-first list left off: the last item's time and id. The next page starts strictly after it, so an
/// item added meanwhile (newer, so before it) is neither skipped nor repeated, as an offset would.
/// </summary>
/// <param name="At">The last item's time (created, added or last used, as the list orders).</param>
/// <param name="Id">The last item's id, which orders items of the same instant.</param>
public readonly record struct KeysetPosition(DateTimeOffset At, Guid Id);

/// <summary>One tile of the gallery.</summary>
/// <param name="Id">The image.</param>
/// <param name="Prompt">Its prompt.</param>
/// <param name="Model">Its model.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="IsFavorite">Starred.</param>
/// <param name="Review">Its review state in the gallery shown, when that gallery has review on; otherwise null.</param>
public sealed record ImageTile(Guid Id, string Prompt, string Model, int Width, int Height, DateTimeOffset CreatedAt, bool IsFavorite, ReviewState? Review = null);

/// <summary>The signed-in person's images: search, pages, favourites and deletion, each checked against the caller.</summary>
public sealed partial class ImageLibrary(IDbContextFactory<AppDbContext> dbFactory, ResourceAccess access, ImageStore store, StudioNotifier events, TimeProvider time)
{
    /// <summary>A page of tiles, newest first, and how many match in all.</summary>
    public async Task<(IReadOnlyList<ImageTile> Tiles, int Total)> PageAsync(ClaimsPrincipal user, GalleryFilter filter, int skip, int take, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ([], 0);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = Filter(db, userId, filter, userId);
        var total = await query.CountAsync(cancellationToken);
        var tiles = await query.OrderByDescending(i => i.CreatedAt).ThenBy(i => i.Id)
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 500))
            .ToTiles(db, userId)
            .ToListAsync(cancellationToken);
        return (tiles, total);
    }

    /// <summary>
    /// Up to <paramref name="take"/> tiles, newest first (ties by id), that come after <paramref name="after"/>
    /// (from the start when null): keyset paging for the API.
    /// </summary>
    public async Task<IReadOnlyList<ImageTile>> AfterAsync(ClaimsPrincipal user, GalleryFilter filter, KeysetPosition? after, int take, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = Filter(db, userId, filter, userId);
        if (after is { } position)
        {
            var at = position.At;
            var id = position.Id;
            query = query.Where(i => i.CreatedAt < at || (i.CreatedAt == at && i.Id.CompareTo(id) > 0));
        }
        return await query.OrderByDescending(i => i.CreatedAt).ThenBy(i => i.Id)
            .Take(Math.Clamp(take, 1, 500))
            .ToTiles(db, userId)
            .ToListAsync(cancellationToken);
    }

    /// <summary>The image next to <paramref name="id"/> in the filtered, newest-first order (older when <paramref name="older"/>).</summary>
    public async Task<Guid?> NeighbourAsync(ClaimsPrincipal user, Guid id, GalleryFilter filter, bool older, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var current = await db.Images.AsNoTracking().Where(i => i.Id == id && i.OwnerId == userId).Select(i => new { i.CreatedAt }).SingleOrDefaultAsync(cancellationToken);
        if (current is null)
        {
            return null;
        }
        var query = Filter(db, userId, filter, userId).Where(i => i.Id != id);
        return older
            ? await query.Where(i => i.CreatedAt <= current.CreatedAt).OrderByDescending(i => i.CreatedAt).Select(i => (Guid?)i.Id).FirstOrDefaultAsync(cancellationToken)
            : await query.Where(i => i.CreatedAt >= current.CreatedAt).OrderBy(i => i.CreatedAt).Select(i => (Guid?)i.Id).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>The models the person has images of, for the filter.</summary>
    public async Task<IReadOnlyList<string>> ModelsAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var models = await db.Images.Where(i => i.OwnerId == userId && i.RemovedByOwnerAt == null).Select(i => i.Model).Distinct().ToListAsync(cancellationToken);
        // Ordered here: SQLite sorts text by bytes, PostgreSQL by the database's collation.
        return [.. models.Order(StringComparer.Ordinal)];
    }

    /// <summary>One image with all its parameters, or null when it does not exist or is someone else's.</summary>
    public async Task<GeneratedImage?> GetAsync(ClaimsPrincipal user, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.Images.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, cancellationToken);
        return await access.AllowsAsync(user, image, ResourceOperations.Read) ? image : null;
    }

    /// <summary>The image's parent (when it still exists and the caller may see it) and its children, oldest first.</summary>
    public async Task<(ImageTile? Parent, IReadOnlyList<ImageTile> Children)> LineageAsync(ClaimsPrincipal user, GeneratedImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return (null, []);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var mine = db.Images.AsNoTracking().Where(i => i.OwnerId == userId);
        var parent = image.ParentImageId is { } parentId
            ? await mine.Where(i => i.Id == parentId).ToTiles(db, userId).SingleOrDefaultAsync(cancellationToken)
            : null;
        var children = await mine.Where(i => i.ParentImageId == image.Id).OrderBy(i => i.CreatedAt).Take(12)
            .ToTiles(db, userId).ToListAsync(cancellationToken);
        return (parent, children);
    }

    /// <summary>Whether the person starred the image.</summary>
    public async Task<bool> IsFavoriteAsync(ClaimsPrincipal user, Guid id, CancellationToken cancellationToken = default)
    {
        var userId = ResourceAccess.UserId(user);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return userId is not null && await db.Favorites.AnyAsync(f => f.UserId == userId && f.ImageId == id, cancellationToken);
    }

    /// <summary>Stars or unstars an image for the person (anyone who may see it); false when it does not exist or is hidden from them.</summary>
    public async Task<bool> SetFavoriteAsync(ClaimsPrincipal user, Guid id, bool favorite, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.Images.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (!await access.AllowsAsync(user, image, ResourceOperations.Read) || ResourceAccess.UserId(user) is not { } userId)
        {
            return false;
        }
        var mine = db.Favorites.Where(f => f.UserId == userId && f.ImageId == id);
        if (!favorite)
        {
            await mine.ExecuteDeleteAsync(cancellationToken); // none left is the goal, whoever removed it
            return true;
        }
        if (await mine.AnyAsync(cancellationToken))
        {
            return true;
        }
        db.Favorites.Add(new Favorite { UserId = userId, ImageId = id, CreatedAt = time.GetUtcNow() });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A second click (another tab, another node) starred it between the check and the insert: it is starred.
            await using var fresh = await dbFactory.CreateDbContextAsync(cancellationToken);
            if (!await fresh.Favorites.AnyAsync(f => f.UserId == userId && f.ImageId == id, cancellationToken))
            {
                throw;
            }
        }
        return true;
    }

    /// <summary>
    /// Deletes one of the person's images: the row, then its files. While a gallery still holds it, it only
    /// leaves the owner's images; the last gallery to let it go deletes it. False when it does not exist or is
    /// someone else's.
    /// </summary>
    public async Task<bool> DeleteAsync(ClaimsPrincipal user, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.Images.SingleOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (!await access.AllowsAsync(user, image, ResourceOperations.Change) || image!.RemovedByOwnerAt is not null)
        {
            return false;
        }
        if (await db.GalleryItems.AnyAsync(i => i.ImageId == id, cancellationToken))
        {
            image.RemovedByOwnerAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }
        else
        {
            await PurgeAsync(db, store, image, cancellationToken);
        }
        events.Publish(new GalleryChanged(image.JobId, image.OwnerId));
        return true;
    }

    /// <summary>Deletes images their owners removed that no gallery holds any more (after items leave galleries).</summary>
    public static async Task PurgeOrphansAsync(AppDbContext db, ImageStore store, IEnumerable<Guid> imageIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var ids = imageIds.ToList();
        var orphans = await db.Images.Where(i => ids.Contains(i.Id) && i.RemovedByOwnerAt != null && !db.GalleryItems.Any(g => g.ImageId == i.Id)).ToListAsync(cancellationToken);
        foreach (var image in orphans)
        {
            await PurgeAsync(db, store, image, cancellationToken);
        }
    }

    private static async Task PurgeAsync(AppDbContext db, ImageStore store, GeneratedImage image, CancellationToken cancellationToken)
    {
        db.Images.Remove(image);
        await db.SaveChangesAsync(cancellationToken);
        // After the commit: a crash here leaves orphan files, which the start-up sweep removes.
        store.Delete(image.FileKey);
        await ReleaseInpaintFilesAsync(db, store, image.JobId, cancellationToken);
        if (image.MaskFileKey is { } mask)
        {
            await DeleteUnlessReferencedAsync(db, store, mask, cancellationToken);
        }
    }

    /// <summary>
    /// Lets a finished inpainting job go of its source and mask once none of its images is left (its last image
    /// was deleted, or it failed or was cancelled without one): the job's keys are cleared first, then the files
    /// no row refers to any more are deleted. A crash between the two leaves orphan files for the start-up sweep,
    /// never a row pointing at a missing file. Nothing happens to a job still queued or running.
    /// </summary>
    public static async Task ReleaseInpaintFilesAsync(AppDbContext db, ImageStore store, Guid jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(store);
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job is not { IsFinished: true } || (job.SourceFileKey is null && job.MaskFileKey is null)
            || await db.Images.AnyAsync(i => i.JobId == jobId, cancellationToken))
        {
            return;
        }
        // A finished job never reads its source or mask again; the files lived on only for its images.
        var keys = new[] { job.SourceFileKey, job.MaskFileKey }.OfType<Guid>().ToList();
        job.SourceFileKey = null;
        job.MaskFileKey = null;
        job.ConcurrencyStamp = Guid.NewGuid();
        await db.SaveChangesAsync(cancellationToken);
        foreach (var key in keys)
        {
            await DeleteUnlessReferencedAsync(db, store, key, cancellationToken);
        }
    }

    private static async Task DeleteUnlessReferencedAsync(AppDbContext db, ImageStore store, Guid key, CancellationToken cancellationToken)
    {
        var referenced = await db.Images.AnyAsync(i => i.FileKey == key || i.MaskFileKey == key, cancellationToken)
            || await db.Jobs.AnyAsync(j => j.SourceFileKey == key || j.MaskFileKey == key, cancellationToken);
        if (!referenced)
        {
            store.Delete(key);
        }
    }

    /// <summary>
    /// Images matching <paramref name="filter"/>; only <paramref name="ownerId"/>'s when given (a gallery narrows by
    /// its items instead); "favourites" are <paramref name="viewerId"/>'s stars.
    /// </summary>
    internal static IQueryable<GeneratedImage> Filter(AppDbContext db, string? ownerId, GalleryFilter filter, string viewerId)
    {
        // Words match prompts through the full-text index, or the whole text appears in one of the image's comments
        // (ignoring case: SQLite's LIKE does for ASCII letters, PostgreSQL's ILIKE for all).
        IQueryable<GeneratedImage> query = db.Images;
        if (db.Database.IsNpgsql())
        {
            if (PostgresTextQuery(filter.Search) is { } words)
            {
                // Accents come off first and the tsquery is built after, in SQL: unaccent turns some letters into
                // quotes (ʻ, ŉ), which would break a query text put together before it ran.
                query = db.Images.FromSql($"""
                    SELECT * FROM "Images"
                    WHERE "PromptSearch" @@ to_tsquery('simple', array_to_string(ARRAY(
                            SELECT part || ':*' FROM unnest({words}) AS word,
                                regexp_split_to_table(public.t2i_unaccent(word), '[''\\:&|!()<>*[:space:]]+') AS part
                            WHERE part <> ''), ' & '))
                        OR "Id" IN (SELECT "ImageId" FROM "Comments" WHERE "Text" ILIKE {LikePattern(filter.Search!)} ESCAPE '\')
                    """);
            }
        }
        else if (FullTextQuery(filter.Search) is { } match)
        {
            query = db.Images.FromSql($"SELECT * FROM Images WHERE rowid IN (SELECT rowid FROM ImageSearch WHERE ImageSearch MATCH {match}) OR Id IN (SELECT ImageId FROM Comments WHERE Text LIKE {LikePattern(filter.Search!)} ESCAPE '\\')");
        }
        query = query.AsNoTracking();
        if (ownerId is not null)
        {
            query = query.Where(i => i.OwnerId == ownerId && i.RemovedByOwnerAt == null);
        }
        if (!string.IsNullOrEmpty(filter.Model))
        {
            query = query.Where(i => i.Model == filter.Model);
        }
        if (filter.Since is { } since)
        {
            query = query.Where(i => i.CreatedAt >= since);
        }
        if (filter.FavoritesOnly)
        {
            query = query.Where(i => db.Favorites.Any(f => f.ImageId == i.Id && f.UserId == viewerId));
        }
        return query;
    }

    /// <summary>
    /// An FTS5 query that matches every word as a prefix; each word is quoted, so FTS5 operators typed by
    /// a person (AND, NEAR, *, quotes, column filters) are plain text. Null when there are no words.
    /// </summary>
    internal static string? FullTextQuery(string? search)
    {
        if (string.IsNullOrWhiteSpace(search))
        {
            return null;
        }
        var words = Words(search);
        return words.Count == 0 ? null : string.Join(' ', words.Select(w => $"\"{w}\"*"));
    }

    /// <summary>
    /// The same words as <see cref="FullTextQuery"/>, for PostgreSQL, which makes each a prefix term of a
    /// <c>tsquery</c> after taking its accents off. The words hold only letters and digits. Null when there are none.
    /// </summary>
    internal static string[]? PostgresTextQuery(string? search)
    {
        var words = Words(search);
        return words.Count == 0 ? null : [.. words];
    }

    private static List<string> Words(string? search) =>
        string.IsNullOrWhiteSpace(search) ? [] : NonWord().Split(search).Where(w => w.Length > 0).Take(16).ToList();

    /// <summary>A LIKE pattern that finds <paramref name="text"/> anywhere, with %, _ and \ matching themselves (escape character \).</summary>
    internal static string LikePattern(string text) =>
        "%" + text.Trim().Replace("\0", "", StringComparison.Ordinal).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    [System.Text.RegularExpressions.GeneratedRegex(@"[^\p{L}\p{N}]+")]
    private static partial System.Text.RegularExpressions.Regex NonWord();
}

/// <summary>The one projection from image rows to gallery tiles.</summary>
internal static class ImageTiles
{
    /// <summary>Tiles of <paramref name="images"/>, starred as <paramref name="viewerId"/> starred them (order kept).</summary>
    public static IQueryable<ImageTile> ToTiles(this IQueryable<GeneratedImage> images, AppDbContext db, string viewerId) =>
        images.Select(i => new ImageTile(i.Id, i.Prompt, i.Model, i.Width, i.Height, i.CreatedAt, db.Favorites.Any(f => f.ImageId == i.Id && f.UserId == viewerId)));
}

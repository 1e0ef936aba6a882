using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;

namespace T2IStudio.Web.Realtime;

/// <summary>Who hears of a change to an image: its people, and each gallery holding it with that gallery's people.</summary>
/// <param name="People">The image's owner and everyone who sees a gallery holding it, each once.</param>
/// <param name="Galleries">Every gallery holding the image, with everyone who sees it.</param>
public sealed record ImageAudience(IReadOnlyList<string> People, IReadOnlyDictionary<Guid, IReadOnlyList<string>> Galleries)
{
    /// <summary>Nobody: the image does not exist.</summary>
    public static ImageAudience None { get; } = new([], new Dictionary<Guid, IReadOnlyList<string>>());
}

/// <summary>
/// Who is told of what: the one place that turns a job, gallery or image into the people whose pages
/// should hear about it. Read from the database each time, so a member who leaves stops hearing at once.
/// </summary>
public sealed class EventAudience(IDbContextFactory<AppDbContext> dbFactory)
{
    /// <summary>Everyone who sees a gallery: its owner, or its team's members; empty when it does not exist.</summary>
    public async Task<IReadOnlyList<string>> OfGalleryAsync(Guid galleryId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var gallery = await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => new { g.OwnerUserId, g.TeamId }).SingleOrDefaultAsync(cancellationToken);
        if (gallery is null)
        {
            return [];
        }
        return gallery.OwnerUserId is { } owner
            ? [owner]
            : await db.TeamMembers.Where(m => m.TeamId == gallery.TeamId).Select(m => m.UserId).ToListAsync(cancellationToken);
    }

    /// <summary>Who follows a job: its owner, and everyone who sees the gallery it generates into.</summary>
    public async Task<IReadOnlyList<string>> OfJobAsync(string ownerId, Guid? galleryId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerId);
        if (galleryId is not { } id)
        {
            return [ownerId];
        }
        var members = await OfGalleryAsync(id, cancellationToken);
        return [.. members.Prepend(ownerId).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Who hears of a change to an image (a comment, say): its owner and everyone who sees a gallery holding it,
    /// and per gallery holding it, that gallery's people (whose gallery pages refresh). Nobody when it does not exist.
    /// </summary>
    public async Task<ImageAudience> OfImageAsync(Guid imageId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ownerId = await db.Images.AsNoTracking().Where(i => i.Id == imageId).Select(i => i.OwnerId).SingleOrDefaultAsync(cancellationToken);
        if (ownerId is null)
        {
            return ImageAudience.None;
        }
        var holders = await db.GalleryItems.AsNoTracking().Where(i => i.ImageId == imageId)
            .Select(i => new { i.GalleryId, i.Gallery!.OwnerUserId, i.Gallery.TeamId }).ToListAsync(cancellationToken);
        var teamIds = holders.Where(h => h.TeamId is not null).Select(h => h.TeamId!.Value).Distinct().ToList();
        var members = (await db.TeamMembers.AsNoTracking().Where(m => teamIds.Contains(m.TeamId)).Select(m => new { m.TeamId, m.UserId }).ToListAsync(cancellationToken))
            .ToLookup(m => m.TeamId, m => m.UserId);
        var galleries = new Dictionary<Guid, IReadOnlyList<string>>();
        foreach (var holder in holders)
        {
            galleries[holder.GalleryId] = holder.OwnerUserId is { } owner ? [owner] : [.. members[holder.TeamId!.Value]];
        }
        IReadOnlyList<string> people = [.. galleries.Values.SelectMany(p => p).Prepend(ownerId).Distinct(StringComparer.Ordinal)];
        return new ImageAudience(people, galleries);
    }
}

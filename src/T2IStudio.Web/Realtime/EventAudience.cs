using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;

namespace T2IStudio.Web.Realtime;

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
}

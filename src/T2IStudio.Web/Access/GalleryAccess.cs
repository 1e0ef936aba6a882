using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Access;

/// <summary>
/// Who may do what in a gallery: the person's role there (Owner of their own gallery; their team role in a
/// team's), read from the database on every call so a removed member loses access at once.
/// </summary>
public sealed class GalleryAccess(IDbContextFactory<AppDbContext> dbFactory)
{
    /// <summary>The role of <paramref name="userId"/> in a gallery, or null when they cannot see it (or it does not exist).</summary>
    public async Task<TeamRole?> RoleAsync(string userId, Guid galleryId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var gallery = await db.Galleries.AsNoTracking().Where(g => g.Id == galleryId).Select(g => new { g.OwnerUserId, g.TeamId }).SingleOrDefaultAsync(cancellationToken);
        if (gallery is null)
        {
            return null;
        }
        if (gallery.OwnerUserId is not null)
        {
            return gallery.OwnerUserId == userId ? TeamRole.Owner : null;
        }
        return await db.TeamMembers.Where(m => m.TeamId == gallery.TeamId && m.UserId == userId).Select(m => (TeamRole?)m.Role).SingleOrDefaultAsync(cancellationToken);
    }
}

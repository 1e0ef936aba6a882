using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Images;

namespace T2IStudio.Web.Teams;

/// <summary>One entry of a team's activity feed, as a member reads it.</summary>
/// <param name="Id">The entry.</param>
/// <param name="At">When it happened (UTC).</param>
/// <param name="ActorName">Who did it (their display name now).</param>
/// <param name="Kind">What happened.</param>
/// <param name="GalleryId">The gallery it happened in; null when none or since deleted.</param>
/// <param name="GalleryName">The gallery's name as it was then (it still reads after a rename or delete).</param>
/// <param name="CanOpenGallery">Whether the reader can open that gallery now (it exists and they may see it).</param>
/// <param name="ImageId">The image concerned, only while it exists and the reader may see it.</param>
/// <param name="SubjectName">The member who joined or left (their name now, or as it was then).</param>
/// <param name="SubjectIsActor">Whether the member who left is the one who did it (they left, rather than were removed).</param>
/// <param name="Detail">The entry's detail: the review state's name, a comment's first words, "4 images".</param>
public sealed record TeamActivityEntry(Guid Id, DateTimeOffset At, string ActorName, TeamActivityKind Kind, Guid? GalleryId, string? GalleryName,
    bool CanOpenGallery, Guid? ImageId, string? SubjectName, bool SubjectIsActor, string? Detail)
{
    /// <summary>Where this entry sits in the feed, for asking what came before or after it.</summary>
    public KeysetPosition Position => new(At, Id);
}

/// <summary>
/// Reads a team's activity feed for its members, newest first. Pages by keyset (time, then id), so entries written
/// while someone reads never shift or repeat the pages they load next.
/// </summary>
public sealed class TeamActivityFeed(IDbContextFactory<AppDbContext> dbFactory)
{
    /// <summary>Entries a page holds unless asked otherwise.</summary>
    public const int PageSize = 30;

    /// <summary>Most entries one call returns.</summary>
    public const int MaxTake = 200;

    /// <summary>
    /// Up to <paramref name="take"/> entries older than <paramref name="before"/> (the newest when null), newest
    /// first; null when the person is not a member of the team (or there is no such team): the same answer either way.
    /// </summary>
    public async Task<IReadOnlyList<TeamActivityEntry>?> PageAsync(ClaimsPrincipal user, Guid teamId, KeysetPosition? before, int take = PageSize,
        CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await IsMemberAsync(db, teamId, userId, cancellationToken))
        {
            return null;
        }
        var entries = db.TeamActivities.AsNoTracking().Where(a => a.TeamId == teamId);
        if (before is { } position)
        {
            var at = position.At;
            var id = position.Id;
            entries = entries.Where(a => a.At < at || (a.At == at && a.Id.CompareTo(id) > 0));
        }
        return await ReadAsync(db, entries.OrderByDescending(a => a.At).ThenBy(a => a.Id), userId, take, cancellationToken);
    }

    /// <summary>
    /// Up to <paramref name="take"/> entries newer than <paramref name="after"/>, newest first: what a feed that shows
    /// <paramref name="after"/> at its top has not seen yet. Null for a non-member, as <see cref="PageAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<TeamActivityEntry>?> NewerAsync(ClaimsPrincipal user, Guid teamId, KeysetPosition after, int take = PageSize,
        CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await IsMemberAsync(db, teamId, userId, cancellationToken))
        {
            return null;
        }
        var at = after.At;
        var id = after.Id;
        // Taken oldest first, so a burst larger than one page keeps the entries right above the feed's top.
        var newer = await ReadAsync(db, db.TeamActivities.AsNoTracking()
            .Where(a => a.TeamId == teamId && (a.At > at || (a.At == at && a.Id.CompareTo(id) < 0)))
            .OrderBy(a => a.At).ThenByDescending(a => a.Id), userId, take, cancellationToken);
        return [.. newer.Reverse()];
    }

    private static Task<bool> IsMemberAsync(AppDbContext db, Guid teamId, string userId, CancellationToken cancellationToken) =>
        db.TeamMembers.AnyAsync(m => m.TeamId == teamId && m.UserId == userId, cancellationToken);

    /// <summary>
    /// Reads the entries in <paramref name="ordered"/>'s order with what the reader may follow: a gallery only while
    /// they can open it, an image only while it exists and they may see it (its thumbnail would answer 404 otherwise).
    /// </summary>
    private static async Task<IReadOnlyList<TeamActivityEntry>> ReadAsync(AppDbContext db, IQueryable<TeamActivity> ordered, string userId, int take,
        CancellationToken cancellationToken)
    {
        var rows = await ordered.Take(Math.Clamp(take, 1, MaxTake))
            .Select(a => new
            {
                a.Id,
                a.At,
                ActorName = a.Actor!.DisplayName != "" ? a.Actor.DisplayName : a.Actor.UserName,
                a.ActorId,
                a.Kind,
                a.GalleryId,
                a.GalleryName,
                CanOpenGallery = a.GalleryId != null && db.Galleries.Any(g => g.Id == a.GalleryId
                    && (g.OwnerUserId == userId || db.TeamMembers.Any(m => m.TeamId == g.TeamId && m.UserId == userId))),
                ImageVisible = a.ImageId != null && db.Images.Any(i => i.Id == a.ImageId
                    && ((i.OwnerId == userId && i.RemovedByOwnerAt == null)
                        || db.GalleryItems.Any(gi => gi.ImageId == i.Id && db.TeamMembers.Any(m => m.TeamId == gi.Gallery!.TeamId && m.UserId == userId)))),
                a.ImageId,
                a.SubjectUserId,
                SubjectName = db.Users.Where(u => u.Id == a.SubjectUserId).Select(u => u.DisplayName).FirstOrDefault(),
                a.Detail,
            })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r =>
        {
            var isMembership = r.Kind is TeamActivityKind.MemberJoined or TeamActivityKind.MemberLeft;
            return new TeamActivityEntry(r.Id, r.At, r.ActorName ?? "Someone", r.Kind,
                r.CanOpenGallery ? r.GalleryId : null, r.GalleryName, r.CanOpenGallery,
                r.ImageVisible ? r.ImageId : null,
                // The name as it was written stands in for someone whose account has gone.
                isMembership ? (string.IsNullOrEmpty(r.SubjectName) ? r.Detail : r.SubjectName) : null,
                r.SubjectUserId is not null && r.SubjectUserId == r.ActorId,
                isMembership ? null : r.Detail);
        })];
    }
}

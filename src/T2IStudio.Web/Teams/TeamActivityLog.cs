using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Teams;

/// <summary>One thing that happened in a team, as the code that did it reports it.</summary>
/// <param name="TeamId">The team.</param>
/// <param name="ActorId">Who did it.</param>
/// <param name="Kind">What happened.</param>
/// <param name="GalleryId">The gallery it happened in, if one (its name is read and kept with the entry).</param>
/// <param name="ImageId">The image concerned, if one.</param>
/// <param name="SubjectUserId">The member who joined or left.</param>
/// <param name="Detail">A short detail (see <see cref="TeamActivity.Detail"/>); cut to 200 characters.</param>
public sealed record ActivityRecord(Guid TeamId, string ActorId, TeamActivityKind Kind, Guid? GalleryId = null, Guid? ImageId = null,
    string? SubjectUserId = null, string? Detail = null);

/// <summary>
/// Writes a team's activity feed and tells its members' open Activity tabs (<see cref="TeamActivityAdded"/>). The
/// feed is a log beside the change it reports: it is written after that change is saved, and a failure to write it
/// never undoes the change.
/// </summary>
public sealed partial class TeamActivityLog(IDbContextFactory<AppDbContext> dbFactory, StudioNotifier events, TimeProvider time, ILogger<TeamActivityLog> logger)
{
    /// <summary>Longest detail kept.</summary>
    public const int MaxDetailLength = 200;

    /// <summary>Records <paramref name="records"/> and tells every member of each team concerned.</summary>
    public async Task RecordAsync(IReadOnlyCollection<ActivityRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var galleryIds = records.Where(r => r.GalleryId is not null).Select(r => r.GalleryId!.Value).Distinct().ToList();
            var names = await db.Galleries.AsNoTracking().Where(g => galleryIds.Contains(g.Id))
                .ToDictionaryAsync(g => g.Id, g => g.Name, cancellationToken);
            var now = time.GetUtcNow();
            var order = 0;
            foreach (var record in records)
            {
                db.TeamActivities.Add(new TeamActivity
                {
                    Id = Guid.NewGuid(),
                    TeamId = record.TeamId,
                    // Entries of one change keep their order under "newest first".
                    At = now.AddTicks(order++),
                    ActorId = record.ActorId,
                    Kind = record.Kind,
                    GalleryId = record.GalleryId is { } g && names.ContainsKey(g) ? g : null,
                    GalleryName = record.GalleryId is { } named && names.TryGetValue(named, out var name) ? name : null,
                    ImageId = record.ImageId,
                    SubjectUserId = record.SubjectUserId,
                    Detail = Clip(record.Detail),
                });
            }
            await db.SaveChangesAsync(cancellationToken);
            var teamIds = records.Select(r => r.TeamId).Distinct().ToList();
            var members = await db.TeamMembers.AsNoTracking().Where(m => teamIds.Contains(m.TeamId))
                .Select(m => new { m.TeamId, m.UserId }).ToListAsync(cancellationToken);
            foreach (var member in members)
            {
                events.Publish(new TeamActivityAdded(member.TeamId, member.UserId));
            }
        }
        catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            // The change itself is saved; a lost feed entry must not fail it.
            LogRecordFailed(logger, ex, records.First().Kind);
        }
    }

    /// <summary>A detail as the feed keeps it: at most <see cref="MaxDetailLength"/> characters, an ellipsis where it was cut.</summary>
    public static string? Clip(string? detail) =>
        detail is { Length: > MaxDetailLength } ? detail[..(MaxDetailLength - 1)] + "…" : detail;

    /// <summary>Records one entry.</summary>
    public Task RecordAsync(ActivityRecord record, CancellationToken cancellationToken = default) => RecordAsync([record], cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A team activity entry ({Kind}) could not be written")]
    private static partial void LogRecordFailed(ILogger logger, Exception ex, TeamActivityKind kind);
}

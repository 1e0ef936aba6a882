using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Models;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Settings;

namespace T2IStudio.Web.Teams;

/// <summary>The limits a team follows unless its owners set its own (the server setting <see cref="Key"/>).</summary>
/// <param name="AllowedModels">The model ids teams may generate into; null for all models.</param>
/// <param name="DailyImageLimit">Images per team per UTC day; 0 for no limit.</param>
public sealed record TeamDefaults(IReadOnlyList<string>? AllowedModels, int DailyImageLimit)
{
    /// <summary>The server setting's key.</summary>
    public const string Key = "Teams:Defaults";

    /// <summary>No limits: what a server whose admins never saved defaults has.</summary>
    public static TeamDefaults None { get; } = new(null, 0);
}

/// <summary>A team's limits as one of its members sees them, with today's use.</summary>
/// <param name="TeamId">The team.</param>
/// <param name="TeamName">Its name.</param>
/// <param name="MyRole">The reader's role (owners change the limits).</param>
/// <param name="OwnAllowedModels">The team's own model list (empty for all models); null when it follows the server default.</param>
/// <param name="OwnDailyImageLimit">The team's own budget (0 = no limit); null when it follows the server default.</param>
/// <param name="Defaults">The server's defaults.</param>
/// <param name="UsedToday">Images its jobs take from today's budget (waiting, running and completed jobs since 00:00 UTC).</param>
public sealed record TeamLimitsView(Guid TeamId, string TeamName, TeamRole MyRole, IReadOnlyList<string>? OwnAllowedModels, int? OwnDailyImageLimit,
    TeamDefaults Defaults, int UsedToday)
{
    /// <summary>The models the team may generate into; null for all.</summary>
    public IReadOnlyList<string>? AllowedModels => TeamLimits.Effective(OwnAllowedModels, Defaults);

    /// <summary>Images per UTC day; 0 for no limit.</summary>
    public int DailyImageLimit => OwnDailyImageLimit ?? Defaults.DailyImageLimit;

    /// <summary>True when the reader may change the limits.</summary>
    public bool CanChange => MyRole == TeamRole.Owner;
}

/// <summary>
/// Per-team limits on jobs saving into a team's galleries: which models they may use and how many images a UTC day
/// they may make. A team's own value wins; null follows the server's <see cref="TeamDefaults"/>, and a team's empty
/// model list is "All models" (an owner's choice that holds even where the defaults name models). Members read them,
/// owners change them, anyone else finds no such team; the server defaults are read and changed by admins (the Admin
/// role as the database says now). The queue applies them (<see cref="RefusalAsync"/>) inside its write transaction,
/// so two submits at the last image of a budget cannot both pass.
/// </summary>
public sealed class TeamLimits(IDbContextFactory<AppDbContext> dbFactory, StudioSettings settings, ModelHost models, StudioNotifier events, TimeProvider time)
{
    /// <summary>The largest daily budget an owner or admin may set.</summary>
    public const int MaxDailyImageLimit = 100_000;

    /// <summary>The most models one list may name.</summary>
    public const int MaxAllowedModels = 100;

    /// <summary>What editors and viewers are told when they try to change the limits.</summary>
    public const string OwnersOnly = "Only the team's owners can change its limits.";

    /// <summary>What someone who is not an admin is told when they try to change the defaults.</summary>
    public const string AdminsOnly = "Only admins can change the team defaults.";

    /// <summary>The team's limits and today's use, or null when the caller is not a member (or there is no such team).</summary>
    public async Task<TeamLimitsView?> GetAsync(ClaimsPrincipal user, Guid teamId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var team = await db.Teams.AsNoTracking().Where(t => t.Id == teamId)
            .Select(t => new { t.Name, t.AllowedModels, t.DailyImageLimit, Role = t.Members.Where(m => m.UserId == userId).Select(m => (TeamRole?)m.Role).FirstOrDefault() })
            .SingleOrDefaultAsync(cancellationToken);
        if (team?.Role is not { } role)
        {
            return null;
        }
        var defaults = await StudioSettings.ReadAsync<TeamDefaults>(db, TeamDefaults.Key, cancellationToken) ?? TeamDefaults.None;
        var used = await UsedTodayAsync(db, teamId, time.GetUtcNow(), cancellationToken);
        return new TeamLimitsView(teamId, team.Name, role, team.AllowedModels, team.DailyImageLimit, defaults, used);
    }

    /// <summary>
    /// Sets the team's limits (owners only): <paramref name="allowedModels"/> null follows the server default, empty is
    /// all models, otherwise the installed model ids its galleries may be generated into; <paramref name="dailyImageLimit"/> null follows the
    /// server default, 0 is no limit. Every member's open pages are told.
    /// </summary>
    public async Task<ChangeResult> SetAsync(ClaimsPrincipal user, Guid teamId, IReadOnlyList<string>? allowedModels, int? dailyImageLimit, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Missing;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // The team lock: a concurrent member change (the last owner demoted) is decided before or after this, not during.
        await using var transaction = await db.Database.BeginWriteTransactionAsync(WriteScope.Teams, cancellationToken);
        var team = await db.Teams.SingleOrDefaultAsync(t => t.Id == teamId, cancellationToken);
        var members = await db.TeamMembers.Where(m => m.TeamId == teamId).Select(m => new { m.UserId, m.Role }).ToListAsync(cancellationToken);
        var me = members.SingleOrDefault(m => m.UserId == userId);
        if (team is null || me is null)
        {
            return ChangeResult.Missing;
        }
        if (me.Role != TeamRole.Owner)
        {
            return ChangeResult.Refused(OwnersOnly);
        }
        var (allowed, modelError) = ValidateModels(allowedModels, team.AllowedModels);
        if ((modelError ?? ValidateLimit(dailyImageLimit)) is { } error)
        {
            return ChangeResult.Refused(error);
        }
        team.AllowedModels = allowed;
        team.DailyImageLimit = dailyImageLimit;
        team.ConcurrencyStamp = Guid.NewGuid();
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        foreach (var member in members)
        {
            events.Publish(new TeamChanged(teamId, member.UserId, Removed: false));
        }
        return new ChangeResult(teamId, [], Message: $"The limits of {team.Name} are saved.");
    }

    /// <summary>The server's team defaults, or null when the caller is not an admin.</summary>
    public async Task<TeamDefaults?> GetDefaultsAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await IsAdminAsync(db, user, cancellationToken))
        {
            return null;
        }
        return await StudioSettings.ReadAsync<TeamDefaults>(db, TeamDefaults.Key, cancellationToken) ?? TeamDefaults.None;
    }

    /// <summary>
    /// Saves the server's team defaults (admins only); teams that follow them change at once. The result carries an
    /// empty id: a server setting has none.
    /// </summary>
    public async Task<ChangeResult> SetDefaultsAsync(ClaimsPrincipal user, TeamDefaults defaults, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        TeamDefaults current;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (!await IsAdminAsync(db, user, cancellationToken))
            {
                return ChangeResult.Refused(AdminsOnly);
            }
            current = await StudioSettings.ReadAsync<TeamDefaults>(db, TeamDefaults.Key, cancellationToken) ?? TeamDefaults.None;
        }
        var (allowed, modelError) = ValidateModels(defaults.AllowedModels, current.AllowedModels);
        if ((modelError ?? ValidateLimit(defaults.DailyImageLimit)) is { } error)
        {
            return ChangeResult.Refused(error);
        }
        // The defaults say "all models" one way only: null.
        await settings.SetAsync(TeamDefaults.Key, new TeamDefaults(allowed is { Count: > 0 } ? allowed : null, defaults.DailyImageLimit), cancellationToken);
        return new ChangeResult(Guid.Empty, [], Message: "Team defaults saved.");
    }

    /// <summary>Why <paramref name="dailyImageLimit"/> cannot be a budget, or null (null itself follows the default).</summary>
    public static string? ValidateLimit(int? dailyImageLimit) =>
        dailyImageLimit is < 0 or > MaxDailyImageLimit
            ? $"Daily images must be between 0 and {MaxDailyImageLimit.ToString(CultureInfo.InvariantCulture)} (0 = no limit)."
            : null;

    /// <summary>
    /// Why a job saving into team <paramref name="teamId"/> with <paramref name="model"/> and <paramref name="batchSize"/>
    /// images cannot be queued at <paramref name="now"/>, or null when it can. Reads through <paramref name="db"/>, so
    /// inside the queue's write transaction the use it counts cannot change before the job is inserted.
    /// </summary>
    public static async Task<string?> RefusalAsync(AppDbContext db, Guid teamId, string model, int batchSize, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        var team = await db.Teams.AsNoTracking().Where(t => t.Id == teamId)
            .Select(t => new { t.Name, t.AllowedModels, t.DailyImageLimit }).SingleOrDefaultAsync(cancellationToken);
        if (team is null)
        {
            return null; // deleted meanwhile: the gallery went with it, and the job finds no gallery to save into
        }
        TeamDefaults? defaults = null;
        if (team.AllowedModels is null || team.DailyImageLimit is null)
        {
            defaults = await StudioSettings.ReadAsync<TeamDefaults>(db, TeamDefaults.Key, cancellationToken) ?? TeamDefaults.None;
        }
        var allowed = Effective(team.AllowedModels, defaults);
        if (allowed is not null && !allowed.Contains(model, StringComparer.Ordinal))
        {
            return $"Model '{model}' is not allowed in {team.Name}'s galleries. Allowed: {string.Join(", ", allowed)}.";
        }
        var limit = team.DailyImageLimit ?? defaults!.DailyImageLimit;
        if (limit == 0)
        {
            return null;
        }
        var used = await UsedTodayAsync(db, teamId, now, cancellationToken);
        return used + batchSize > limit
            ? $"{team.Name} has used {used} of its {limit} images today; this job makes {batchSize}. The budget resets at 00:00 UTC."
            : null;
    }

    /// <summary>
    /// Images the team's jobs take from the budget of the UTC day of <paramref name="now"/>: those of jobs submitted
    /// since its 00:00 that wait, run or completed. A failed or cancelled job gives its images back.
    /// </summary>
    public static async Task<int> UsedTodayAsync(AppDbContext db, Guid teamId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        var since = DayStart(now);
        return await db.Jobs.Where(j => j.TeamId == teamId && j.CreatedAt >= since
                && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running || j.Status == JobStatus.Completed))
            .SumAsync(j => j.BatchSize, cancellationToken);
    }

    /// <summary>The models a team may use (null for all) given its own list and the defaults it follows when that is null.</summary>
    public static IReadOnlyList<string>? Effective(IReadOnlyList<string>? own, TeamDefaults? defaults) =>
        (own ?? defaults?.AllowedModels) is { Count: > 0 } list ? list : null;

    /// <summary>00:00 UTC of the day of <paramref name="now"/>, when budgets start again.</summary>
    public static DateTimeOffset DayStart(DateTimeOffset now) => new(now.UtcDateTime.Date, TimeSpan.Zero);

    /// <summary>
    /// The list as stored (trimmed, without repeats, in order; empty for all models) and why it cannot be one: too long,
    /// or an id that is neither installed nor already on <paramref name="current"/> (a model removed from disk may stay listed).
    /// </summary>
    private (List<string>? Models, string? Error) ValidateModels(IReadOnlyList<string>? allowedModels, IReadOnlyList<string>? current)
    {
        if (allowedModels is null)
        {
            return (null, null);
        }
        var ids = allowedModels.Select(m => m?.Trim() ?? "").Where(m => m.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (ids.Count > MaxAllowedModels)
        {
            return (null, $"A list names at most {MaxAllowedModels} models.");
        }
        var installed = models.Catalog.List().Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        if (ids.FirstOrDefault(id => !installed.Contains(id) && current?.Contains(id, StringComparer.Ordinal) != true) is { } unknown)
        {
            return (null, $"There is no model '{unknown}'.");
        }
        return (ids, null);
    }

    private static async Task<bool> IsAdminAsync(AppDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        ResourceAccess.UserId(user) is { } userId
        && await db.AdminUserIds().AnyAsync(id => id == userId, cancellationToken);
}

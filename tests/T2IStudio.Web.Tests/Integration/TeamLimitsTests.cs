using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Settings;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// Per-team models and daily budgets: who reads and changes them, the server defaults, and the queue's admission of
/// jobs saving into team galleries (refused with a message, nothing queued, the last image given to one submit only).
/// </summary>
public class TeamLimitsTests
{
    private const string Model = "t2istudio-tiny";

    // No worker: queued jobs stay queued, so what the budget counts is exactly what the test submitted.
    private static readonly Dictionary<string, string?> NoWorker = new() { ["Queue:RunWorker"] = "false" };

    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    [Fact]
    public async Task Owners_change_the_limits_editors_and_viewers_read_but_cannot_change_them_and_outsiders_find_no_team()
    {
        using var app = NewApp(settings: NoWorker);
        var world = await World.CreateAsync(app, "rl");
        using var viewerHears = new JobWaiter(app.Services, world.Viewer.Id);

        var saved = await world.Limits.SetAsync(world.OwnerP, world.TeamId, [Model], 50);
        Assert.True(saved.Succeeded, string.Join(" ", saved.Errors));
        Assert.Contains(viewerHears.Events, e => e is TeamChanged c && c.TeamId == world.TeamId && !c.Removed);

        foreach (var member in new[] { world.OwnerP, world.EditorP, world.ViewerP })
        {
            var view = await world.Limits.GetAsync(member, world.TeamId);
            Assert.NotNull(view);
            Assert.Equal([Model], view.AllowedModels);
            Assert.Equal(50, view.DailyImageLimit);
            Assert.Equal(0, view.UsedToday);
        }
        Assert.True((await world.Limits.GetAsync(world.OwnerP, world.TeamId))!.CanChange);
        Assert.False((await world.Limits.GetAsync(world.EditorP, world.TeamId))!.CanChange);
        Assert.Equal([TeamLimits.OwnersOnly], (await world.Limits.SetAsync(world.EditorP, world.TeamId, null, 0)).Errors);
        Assert.Equal(["Only the team's owners can change its limits."], (await world.Limits.SetAsync(world.ViewerP, world.TeamId, [], 0)).Errors);
        Assert.Null(await world.Limits.GetAsync(world.OutsiderP, world.TeamId));
        Assert.True((await world.Limits.SetAsync(world.OutsiderP, world.TeamId, null, 0)).NotFound);
        Assert.True((await world.Limits.SetAsync(world.OwnerP, Guid.NewGuid(), null, 0)).NotFound);

        // Out of range or unknown: refused, and nothing changed.
        Assert.Equal(["Daily images must be between 0 and 100000 (0 = no limit)."], (await world.Limits.SetAsync(world.OwnerP, world.TeamId, null, -1)).Errors);
        Assert.Equal(["Daily images must be between 0 and 100000 (0 = no limit)."], (await world.Limits.SetAsync(world.OwnerP, world.TeamId, null, 100_001)).Errors);
        Assert.Equal(["There is no model 'no-such-model'."], (await world.Limits.SetAsync(world.OwnerP, world.TeamId, ["no-such-model"], 5)).Errors);
        await using (var db = world.Db())
        {
            var team = await db.Teams.AsNoTracking().SingleAsync(t => t.Id == world.TeamId);
            Assert.Equal([Model], team.AllowedModels);
            Assert.Equal(50, team.DailyImageLimit);
        }

        // "All models" is an empty list, kept apart from "Use the server default" (null).
        Assert.True((await world.Limits.SetAsync(world.OwnerP, world.TeamId, [], 100_000)).Succeeded);
        var all = (await world.Limits.GetAsync(world.ViewerP, world.TeamId))!;
        Assert.Null(all.AllowedModels);
        Assert.Empty(Assert.IsAssignableFrom<IReadOnlyList<string>>(all.OwnAllowedModels));
        Assert.Equal(100_000, all.DailyImageLimit);
    }

    [Fact]
    public async Task Only_admins_read_and_change_the_team_defaults()
    {
        using var app = NewApp(settings: NoWorker);
        var world = await World.CreateAsync(app, "ad");
        var admin = await app.CreateUserAsync("ad-admin@example.test");
        await app.MakeAdminAsync(admin);
        var adminP = StudioAppFactory.PrincipalOf(admin);

        // A team owner is no admin: the defaults are not theirs to read or change.
        Assert.Null(await world.Limits.GetDefaultsAsync(world.OwnerP));
        Assert.Equal([TeamLimits.AdminsOnly], (await world.Limits.SetDefaultsAsync(world.OwnerP, new TeamDefaults(null, 5))).Errors);
        Assert.Equal(TeamDefaults.None, await world.Limits.GetDefaultsAsync(adminP));

        var saved = await world.Limits.SetDefaultsAsync(adminP, new TeamDefaults([Model, Model], 30));
        Assert.True(saved.Succeeded, string.Join(" ", saved.Errors));
        var defaults = (await world.Limits.GetDefaultsAsync(adminP))!;
        Assert.Equal([Model], defaults.AllowedModels);
        Assert.Equal(30, defaults.DailyImageLimit);
        Assert.Equal(["Daily images must be between 0 and 100000 (0 = no limit)."], (await world.Limits.SetDefaultsAsync(adminP, new TeamDefaults(null, 100_001))).Errors);
        Assert.Equal(["There is no model 'gone'."], (await world.Limits.SetDefaultsAsync(adminP, new TeamDefaults(["gone"], 1))).Errors);

        // "All models" in the defaults is null, however it was sent.
        Assert.True((await world.Limits.SetDefaultsAsync(adminP, new TeamDefaults([], 0))).Succeeded);
        Assert.Equal(TeamDefaults.None, await world.Limits.GetDefaultsAsync(adminP));

        // Taken out of the role, the same person can no longer change them (the database decides, not a cookie).
        await using (var db = world.Db())
        {
            await db.UserRoles.Where(r => r.UserId == admin.Id).ExecuteDeleteAsync();
        }
        Assert.Equal([TeamLimits.AdminsOnly], (await world.Limits.SetDefaultsAsync(adminP, new TeamDefaults(null, 5))).Errors);
    }

    [Fact]
    public async Task Two_admins_saving_the_defaults_at_once_both_succeed_and_one_row_keeps_one_of_their_values()
    {
        using var app = NewApp(settings: NoWorker);
        var limits = app.Services.GetRequiredService<TeamLimits>();
        var first = await app.CreateUserAsync("two-admins-1@example.test");
        var second = await app.CreateUserAsync("two-admins-2@example.test");
        await app.MakeAdminAsync(first);
        await app.MakeAdminAsync(second);

        // Several rounds, each starting with no row, so both saves can find it missing and insert.
        for (var round = 1; round <= 5; round++)
        {
            await using (var db = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext())
            {
                await db.StudioSettings.ExecuteDeleteAsync();
            }
            var saves = await Task.WhenAll(
                Task.Run(() => limits.SetDefaultsAsync(StudioAppFactory.PrincipalOf(first), new TeamDefaults(null, round))),
                Task.Run(() => limits.SetDefaultsAsync(StudioAppFactory.PrincipalOf(second), new TeamDefaults(null, 100 + round))));

            Assert.All(saves, s => Assert.True(s.Succeeded, string.Join(" ", s.Errors)));
            await using var check = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext();
            var row = Assert.Single(await check.StudioSettings.AsNoTracking().ToListAsync());
            Assert.Equal(TeamDefaults.Key, row.Key);
            Assert.Contains((await limits.GetDefaultsAsync(StudioAppFactory.PrincipalOf(first)))!.DailyImageLimit, new[] { round, 100 + round });
        }
    }

    [Fact]
    public async Task A_job_past_the_daily_budget_is_refused_with_todays_use_and_nothing_is_queued()
    {
        using var app = NewApp(settings: NoWorker);
        var world = await World.CreateAsync(app, "bd");
        Assert.True((await world.Limits.SetAsync(world.OwnerP, world.TeamId, null, 5)).Succeeded);

        Assert.True((await world.SubmitAsync(world.EditorP, batch: 2)).Succeeded);
        Assert.True((await world.SubmitAsync(world.OwnerP, batch: 2)).Succeeded);
        var before = await world.JobCountAsync();

        var refused = await world.SubmitAsync(world.EditorP, batch: 2);

        Assert.Null(refused.JobId);
        Assert.Equal(["Posters has used 4 of its 5 images today; this job makes 2. The budget resets at 00:00 UTC."], refused.Errors);
        Assert.Equal(before, await world.JobCountAsync());
        Assert.Equal(4, (await world.Limits.GetAsync(world.ViewerP, world.TeamId))!.UsedToday);

        // The last image of the budget is still there for a job that fits.
        Assert.True((await world.SubmitAsync(world.EditorP, batch: 1)).Succeeded);
        Assert.Equal(5, (await world.Limits.GetAsync(world.ViewerP, world.TeamId))!.UsedToday);
        Assert.Equal(["Posters has used 5 of its 5 images today; this job makes 1. The budget resets at 00:00 UTC."], (await world.SubmitAsync(world.OwnerP, batch: 1)).Errors);
    }

    [Fact]
    public async Task A_cancelled_or_failed_job_gives_its_images_back_and_jobs_of_an_earlier_day_do_not_count()
    {
        using var app = NewApp(settings: NoWorker);
        var world = await World.CreateAsync(app, "gb");
        Assert.True((await world.Limits.SetAsync(world.OwnerP, world.TeamId, null, 4)).Succeeded);
        var first = await world.SubmitAsync(world.EditorP, batch: 4);
        Assert.True(first.Succeeded);
        Assert.Single((await world.SubmitAsync(world.OwnerP, batch: 1)).Errors);

        using (var scope = app.Services.CreateScope())
        {
            Assert.Equal(CancelOutcome.Canceled, await scope.ServiceProvider.GetRequiredService<GenerationService>().CancelAsync(world.EditorP, first.JobId!.Value));
        }
        Assert.Equal(0, (await world.Limits.GetAsync(world.OwnerP, world.TeamId))!.UsedToday);
        var second = await world.SubmitAsync(world.OwnerP, batch: 3);
        Assert.True(second.Succeeded);
        Assert.Single((await world.SubmitAsync(world.OwnerP, batch: 2)).Errors);

        // A job that failed gives its images back too.
        await using (var db = world.Db())
        {
            await db.Jobs.Where(j => j.Id == second.JobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Failed));
        }
        Assert.True((await world.SubmitAsync(world.OwnerP, batch: 4)).Succeeded);

        // The day is UTC's: what was made before 00:00 belongs to yesterday's budget.
        await using (var db = world.Db())
        {
            var now = DateTimeOffset.UtcNow;
            var midnight = TeamLimits.DayStart(now);
            Assert.Equal(new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero), midnight);
            db.Jobs.Add(world.JobRow(createdAt: midnight.AddTicks(-1), batch: 8));
            await db.SaveChangesAsync();
            Assert.Equal(4, await TeamLimits.UsedTodayAsync(db, world.TeamId, now));
            Assert.Equal(4, await TeamLimits.UsedTodayAsync(db, world.TeamId, midnight));
            Assert.Equal(12, await TeamLimits.UsedTodayAsync(db, world.TeamId, midnight.AddTicks(-1)));
            Assert.Equal(0, await TeamLimits.UsedTodayAsync(db, world.TeamId, midnight.AddDays(1)));
        }
    }

    [Fact]
    public async Task A_model_the_team_does_not_allow_is_refused_and_an_allowed_one_passes()
    {
        using var app = NewApp(settings: NoWorker);
        var world = await World.CreateAsync(app, "md");
        // A default naming a model this server no longer has (an admin removed its folder): the team follows it.
        await app.Services.GetRequiredService<StudioSettings>().SetAsync(TeamDefaults.Key, new TeamDefaults(["sdxl-base", "sd15"], 0));
        var before = await world.JobCountAsync();

        var refused = await world.SubmitAsync(world.EditorP, batch: 1);

        Assert.Equal(["Model 't2istudio-tiny' is not allowed in Posters's galleries. Allowed: sdxl-base, sd15."], refused.Errors);
        Assert.Equal(before, await world.JobCountAsync());

        Assert.True((await world.Limits.SetAsync(world.OwnerP, world.TeamId, [Model], null)).Succeeded);
        Assert.True((await world.SubmitAsync(world.EditorP, batch: 1)).Succeeded);
        // A model can be added only while installed; one on the list whose folder was removed since stays when the list is saved again.
        Assert.Equal(["There is no model 'sdxl-base'."], (await world.Limits.SetAsync(world.OwnerP, world.TeamId, ["sdxl-base", Model], null)).Errors);
        await using (var db = world.Db())
        {
            await db.Teams.Where(t => t.Id == world.TeamId).ExecuteUpdateAsync(s => s.SetProperty(t => t.AllowedModels, new List<string> { "sdxl-base", Model }));
        }
        Assert.True((await world.Limits.SetAsync(world.OwnerP, world.TeamId, ["sdxl-base", Model], 3)).Succeeded);
        Assert.True((await world.SubmitAsync(world.EditorP, batch: 1)).Succeeded);
    }

    [Fact]
    public async Task Jobs_not_saving_into_a_team_gallery_are_never_limited()
    {
        using var app = NewApp(settings: NoWorker);
        var world = await World.CreateAsync(app, "nl");
        await app.Services.GetRequiredService<StudioSettings>().SetAsync(TeamDefaults.Key, new TeamDefaults(["sdxl-base"], 1));
        Assert.Single((await world.SubmitAsync(world.EditorP, batch: 2)).Errors);
        using var scope = app.Services.CreateScope();
        var generation = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var privateGallery = (await scope.ServiceProvider.GetRequiredService<GalleryService>().CreateAsync(world.EditorP, "Mine", null)).Id!.Value;

        var own = await generation.SubmitAsync(world.EditorP, GenerationQueueTests.Request(steps: 2, batch: 2));
        var intoPrivate = await generation.SubmitAsync(world.EditorP, GenerationQueueTests.Request(steps: 2, batch: 2) with { GalleryId = privateGallery });

        Assert.True(own.Succeeded, string.Join(" ", own.Errors));
        Assert.True(intoPrivate.Succeeded, string.Join(" ", intoPrivate.Errors));
        await using var db = world.Db();
        Assert.All(await db.Jobs.Where(j => j.Id == own.JobId || j.Id == intoPrivate.JobId).ToListAsync(), j => Assert.Null(j.TeamId));
        Assert.Equal(0, (await world.Limits.GetAsync(world.EditorP, world.TeamId))!.UsedToday);
    }

    [Fact]
    public async Task Server_defaults_apply_until_an_owner_overrides_them_and_following_the_default_returns_to_them()
    {
        using var app = NewApp(settings: NoWorker);
        var world = await World.CreateAsync(app, "df");
        var admin = await app.CreateUserAsync("df-admin@example.test");
        await app.MakeAdminAsync(admin);
        Assert.True((await world.Limits.SetDefaultsAsync(StudioAppFactory.PrincipalOf(admin), new TeamDefaults(null, 2))).Succeeded);

        var followed = (await world.Limits.GetAsync(world.ViewerP, world.TeamId))!;
        Assert.Null(followed.OwnDailyImageLimit);
        Assert.Equal(2, followed.DailyImageLimit);
        Assert.True((await world.SubmitAsync(world.EditorP, batch: 2)).Succeeded);
        Assert.Equal(["Posters has used 2 of its 2 images today; this job makes 1. The budget resets at 00:00 UTC."], (await world.SubmitAsync(world.EditorP, batch: 1)).Errors);

        // The owners choose no limit for their team: the default no longer applies to it.
        Assert.True((await world.Limits.SetAsync(world.OwnerP, world.TeamId, null, 0)).Succeeded);
        Assert.Equal(0, (await world.Limits.GetAsync(world.ViewerP, world.TeamId))!.DailyImageLimit);
        Assert.True((await world.SubmitAsync(world.EditorP, batch: 1)).Succeeded);

        // "Use the server default" again: the admin's 2 a day apply once more.
        Assert.True((await world.Limits.SetAsync(world.OwnerP, world.TeamId, null, null)).Succeeded);
        await using (var db = world.Db())
        {
            Assert.Null((await db.Teams.AsNoTracking().SingleAsync(t => t.Id == world.TeamId)).DailyImageLimit);
        }
        Assert.Equal(["Posters has used 3 of its 2 images today; this job makes 1. The budget resets at 00:00 UTC."], (await world.SubmitAsync(world.EditorP, batch: 1)).Errors);
    }

    [Fact]
    public async Task Two_submits_racing_for_the_last_image_of_the_budget_queue_exactly_one()
    {
        using var app = NewApp(settings: NoWorker);
        var world = await World.CreateAsync(app, "rc");
        Assert.True((await world.Limits.SetAsync(world.OwnerP, world.TeamId, null, 3)).Succeeded);
        Assert.True((await world.SubmitAsync(world.OwnerP, batch: 2)).Succeeded);

        // Two people, two scopes (two circuits), one image left.
        var results = await Task.WhenAll(world.SubmitAsync(world.EditorP, batch: 1), world.SubmitAsync(world.OwnerP, batch: 1));

        Assert.Single(results, r => r.Succeeded);
        Assert.Equal(["Posters has used 3 of its 3 images today; this job makes 1. The budget resets at 00:00 UTC."], Assert.Single(results, r => !r.Succeeded).Errors);
        await using var db = world.Db();
        Assert.Equal(3, await db.Jobs.Where(j => j.TeamId == world.TeamId).SumAsync(j => j.BatchSize));
    }

    /// <summary>A team "Posters" with an owner, an editor and a viewer, its gallery, and someone outside it.</summary>
    private sealed record World(StudioAppFactory App, TeamLimits Limits, Guid TeamId, Guid GalleryId, AppUser Owner, AppUser Editor, AppUser Viewer, AppUser Outsider)
    {
        public System.Security.Claims.ClaimsPrincipal OwnerP => StudioAppFactory.PrincipalOf(Owner);

        public System.Security.Claims.ClaimsPrincipal EditorP => StudioAppFactory.PrincipalOf(Editor);

        public System.Security.Claims.ClaimsPrincipal ViewerP => StudioAppFactory.PrincipalOf(Viewer);

        public System.Security.Claims.ClaimsPrincipal OutsiderP => StudioAppFactory.PrincipalOf(Outsider);

        public static async Task<World> CreateAsync(StudioAppFactory app, string prefix)
        {
            var owner = await app.CreateUserAsync($"{prefix}-owner@example.test");
            var editor = await app.CreateUserAsync($"{prefix}-editor@example.test");
            var viewer = await app.CreateUserAsync($"{prefix}-viewer@example.test");
            var outsider = await app.CreateUserAsync($"{prefix}-outsider@example.test");
            using var scope = app.Services.CreateScope();
            var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
            var ownerP = StudioAppFactory.PrincipalOf(owner);
            var teamId = (await teams.CreateAsync(ownerP, "Posters")).Id!.Value;
            Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, editor, TeamRole.Editor)).Succeeded);
            Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, viewer, TeamRole.Viewer)).Succeeded);
            var galleryId = (await scope.ServiceProvider.GetRequiredService<GalleryService>().CreateAsync(ownerP, "Client work", teamId)).Id!.Value;
            return new World(app, app.Services.GetRequiredService<TeamLimits>(), teamId, galleryId, owner, editor, viewer, outsider);
        }

        /// <summary>Submits a job saving into the team's gallery, in a scope of its own (as its own circuit would).</summary>
        public async Task<SubmitResult> SubmitAsync(System.Security.Claims.ClaimsPrincipal user, int batch)
        {
            using var scope = App.Services.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<GenerationService>()
                .SubmitAsync(user, GenerationQueueTests.Request(steps: 2, batch: batch) with { GalleryId = GalleryId });
        }

        public AppDbContext Db() => App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext();

        public async Task<int> JobCountAsync()
        {
            await using var db = Db();
            return await db.Jobs.CountAsync();
        }

        /// <summary>A completed job of the team's, made at <paramref name="createdAt"/>.</summary>
        public Job JobRow(DateTimeOffset createdAt, int batch) => new()
        {
            Id = Guid.NewGuid(), OwnerId = Owner.Id, Status = JobStatus.Completed, Model = Model, Prompt = "earlier", RequestJson = "{}",
            BatchSize = batch, TotalSteps = 2, Width = 64, Height = 64, CreatedAt = createdAt, FinishedAt = createdAt, GalleryId = GalleryId, TeamId = TeamId,
        };
    }
}

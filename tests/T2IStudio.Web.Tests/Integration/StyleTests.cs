using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Styles;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>The styles library: who sees, uses and changes which styles, what a style must be, and what applying one writes into the PNG.</summary>
public class StyleTests
{
    private static readonly Dictionary<string, string?> NoWorker = new() { ["Queue:RunWorker"] = "false" };

    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    private static StyleDraft Draft(string name, string prompt = "oil painting of {prompt}", string negative = "lowres") =>
        new() { Name = name, Prompt = prompt, NegativePrompt = negative };

    [Fact]
    public async Task Team_owners_and_editors_manage_team_styles_viewers_list_and_use_them_but_are_refused_changes_and_outsiders_find_nothing()
    {
        using var app = NewApp(settings: NoWorker);
        var owner = await app.CreateUserAsync("s-owner@example.test");
        var editor = await app.CreateUserAsync("s-editor@example.test");
        var viewer = await app.CreateUserAsync("s-viewer@example.test");
        var outsider = await app.CreateUserAsync("s-outsider@example.test");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var styles = scope.ServiceProvider.GetRequiredService<StyleLibrary>();
        var generation = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var editorP = StudioAppFactory.PrincipalOf(editor);
        var viewerP = StudioAppFactory.PrincipalOf(viewer);
        var outsiderP = StudioAppFactory.PrincipalOf(outsider);
        var teamId = (await teams.CreateAsync(ownerP, "Atelier")).Id!.Value;
        await teams.JoinByInvitationAsync(ownerP, teamId, editor, TeamRole.Editor);
        await teams.JoinByInvitationAsync(ownerP, teamId, viewer, TeamRole.Viewer);
        using var viewerHears = new JobWaiter(app.Services, viewer.Id);
        using var outsiderHears = new JobWaiter(app.Services, outsider.Id);

        // Owners and editors create; viewers are told why not; outsiders find no team.
        var byOwner = await styles.CreateAsync(ownerP, teamId, Draft("Watercolour"));
        var byEditor = await styles.CreateAsync(editorP, teamId, Draft("Blueprint", "{prompt}, blueprint"));
        Assert.True(byOwner.Succeeded && byEditor.Succeeded);
        Assert.Equal([StyleLibrary.ViewerMessage], (await styles.CreateAsync(viewerP, teamId, Draft("Mine"))).Errors);
        Assert.True((await styles.CreateAsync(outsiderP, teamId, Draft("Intruder"))).NotFound);
        Assert.Contains(viewerHears.Events, e => e is StylesChanged c && c.TeamId == teamId);

        // Every member lists them, by name, under the team; the outsider sees only their own (none).
        var viewerGroups = await styles.ListAsync(viewerP);
        Assert.Equal([StyleLibrary.MyStylesLabel, "Atelier"], viewerGroups.Select(g => g.Label));
        var teamGroup = viewerGroups[1];
        Assert.False(teamGroup.CanManage);
        Assert.Equal(["Blueprint", "Watercolour"], teamGroup.Styles.Select(s => s.Name));
        Assert.True((await styles.TeamStylesAsync(editorP, teamId))!.CanManage);
        Assert.Null(await styles.TeamStylesAsync(outsiderP, teamId));
        Assert.Equal([StyleLibrary.MyStylesLabel], (await styles.ListAsync(outsiderP)).Select(g => g.Label));
        Assert.NotNull(await styles.GetAsync(viewerP, byOwner.Id!.Value));
        Assert.Null(await styles.GetAsync(outsiderP, byOwner.Id.Value));

        // Changes: the editor edits the owner's style and deletes their own; the viewer is refused; the outsider finds nothing.
        var watercolour = (await styles.GetAsync(editorP, byOwner.Id.Value))!;
        var edited = StyleDraft.From(watercolour);
        edited.Prompt = "soft watercolour of {prompt}";
        Assert.Equal([StyleLibrary.ViewerMessage], (await styles.UpdateAsync(viewerP, watercolour.Id, edited, watercolour.ConcurrencyStamp)).Errors);
        Assert.True((await styles.UpdateAsync(outsiderP, watercolour.Id, edited, watercolour.ConcurrencyStamp)).NotFound);
        Assert.True((await styles.UpdateAsync(editorP, watercolour.Id, edited, watercolour.ConcurrencyStamp)).Succeeded);
        Assert.Equal("soft watercolour of {prompt}", (await styles.GetAsync(ownerP, watercolour.Id))!.Prompt);
        // The version the owner read is stale now.
        Assert.Equal([StyleLibrary.ConflictMessage], (await styles.UpdateAsync(ownerP, watercolour.Id, Draft("Watercolour"), watercolour.ConcurrencyStamp)).Errors);
        Assert.Equal([StyleLibrary.ViewerMessage], (await styles.DeleteAsync(viewerP, byEditor.Id!.Value)).Errors);
        Assert.True((await styles.DeleteAsync(outsiderP, byEditor.Id.Value)).NotFound);
        Assert.True((await styles.DeleteAsync(editorP, byEditor.Id.Value)).Succeeded);
        Assert.True((await styles.DeleteAsync(ownerP, byEditor.Id.Value)).NotFound);
        Assert.Equal(["Watercolour"], (await styles.TeamStylesAsync(ownerP, teamId))!.Styles.Select(s => s.Name));

        // The viewer uses the team's style; the outsider's submit with it is refused and nothing is queued for them.
        var used = await generation.SubmitAsync(viewerP, GenerationQueueTests.Request(prompt: "a lighthouse") with { StyleId = watercolour.Id });
        Assert.True(used.Succeeded, string.Join(" ", used.Errors));
        Assert.Equal(["That style is not available."], (await generation.SubmitAsync(outsiderP, GenerationQueueTests.Request() with { StyleId = watercolour.Id })).Errors);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal("soft watercolour of a lighthouse", (await db.Jobs.SingleAsync(j => j.Id == used.JobId)).Prompt);
        Assert.False(await db.Jobs.AnyAsync(j => j.OwnerId == outsider.Id));
        Assert.DoesNotContain(outsiderHears.Events, e => e is StylesChanged);

        // A member who leaves loses the team's styles at once.
        Assert.True((await teams.LeaveAsync(viewerP, teamId)).Succeeded);
        Assert.Null(await styles.GetAsync(viewerP, watercolour.Id));
        Assert.Equal(["That style is not available."], (await generation.SubmitAsync(viewerP, GenerationQueueTests.Request() with { StyleId = watercolour.Id })).Errors);
    }

    [Fact]
    public async Task A_personal_style_is_its_owners_alone_and_someone_elses_reads_as_missing_everywhere()
    {
        using var app = NewApp(settings: NoWorker);
        var owner = await app.CreateUserAsync("p-owner@example.test");
        var other = await app.CreateUserAsync("p-other@example.test");
        using var scope = app.Services.CreateScope();
        var styles = scope.ServiceProvider.GetRequiredService<StyleLibrary>();
        var generation = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var otherP = StudioAppFactory.PrincipalOf(other);
        using var ownerHears = new JobWaiter(app.Services, owner.Id);
        using var otherHears = new JobWaiter(app.Services, other.Id);

        var created = await styles.CreateAsync(ownerP, null, Draft("Noir", "{prompt}, film noir", "colour"));
        Assert.True(created.Succeeded);
        var styleId = created.Id!.Value;
        var noir = (await styles.GetAsync(ownerP, styleId))!;
        Assert.True(noir.CanManage);
        Assert.Equal(["Noir"], (await styles.ListAsync(ownerP))[0].Styles.Select(s => s.Name));
        Assert.Contains(ownerHears.Events, e => e is StylesChanged { TeamId: null });

        Assert.Null(await styles.GetAsync(otherP, styleId));
        Assert.Empty((await styles.ListAsync(otherP)).SelectMany(g => g.Styles));
        Assert.True((await styles.UpdateAsync(otherP, styleId, Draft("Mine"), noir.ConcurrencyStamp)).NotFound);
        Assert.True((await styles.DeleteAsync(otherP, styleId)).NotFound);
        Assert.Equal(["That style is not available."], (await generation.SubmitAsync(otherP, GenerationQueueTests.Request() with { StyleId = styleId })).Errors);
        Assert.Equal(["That style is not available."], (await generation.SubmitAsync(otherP, GenerationQueueTests.Request() with { StyleId = Guid.NewGuid() })).Errors);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.False(await db.Jobs.AnyAsync());
        Assert.Equal("Noir", (await db.Styles.SingleAsync()).Name);
        Assert.DoesNotContain(otherHears.Events, e => e is StylesChanged);
    }

    [Fact]
    public async Task Names_are_unique_per_owner_ignoring_case_and_a_style_is_validated_with_clear_messages()
    {
        using var app = NewApp(settings: NoWorker);
        var ana = await app.CreateUserAsync("n-ana@example.test");
        var ben = await app.CreateUserAsync("n-ben@example.test");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var styles = scope.ServiceProvider.GetRequiredService<StyleLibrary>();
        var anaP = StudioAppFactory.PrincipalOf(ana);
        var benP = StudioAppFactory.PrincipalOf(ben);
        var teamId = (await teams.CreateAsync(anaP, "Crew")).Id!.Value;

        Assert.True((await styles.CreateAsync(anaP, null, Draft("  Cinematic  "))).Succeeded);
        Assert.Equal(["You already have a style named \"CINEMATIC\"."], (await styles.CreateAsync(anaP, null, Draft("CINEMATIC"))).Errors);
        // Another owner, or the team, may use the same name.
        Assert.True((await styles.CreateAsync(benP, null, Draft("cinematic"))).Succeeded);
        Assert.True((await styles.CreateAsync(anaP, teamId, Draft("Cinematic"))).Succeeded);
        Assert.Equal(["This team already has a style named \"cinematic\"."], (await styles.CreateAsync(anaP, teamId, Draft("cinematic"))).Errors);
        // Renaming onto a sibling is refused; keeping one's own name (in another case) is not.
        var second = (await styles.CreateAsync(anaP, null, Draft("Sketch"))).Id!.Value;
        var sketch = (await styles.GetAsync(anaP, second))!;
        Assert.Equal(["You already have a style named \"cinematic\"."], (await styles.UpdateAsync(anaP, second, Draft("cinematic"), sketch.ConcurrencyStamp)).Errors);
        Assert.True((await styles.UpdateAsync(anaP, second, Draft("SKETCH"), sketch.ConcurrencyStamp)).Succeeded);
        Assert.Equal("SKETCH", (await styles.GetAsync(anaP, second))!.Name);

        Assert.Equal(["Give the style a name."], (await styles.CreateAsync(anaP, null, Draft("   "))).Errors);
        Assert.Equal(["A style name has at most 80 characters."], (await styles.CreateAsync(anaP, null, Draft(new string('n', 81)))).Errors);
        Assert.Equal(["A style prompt has at most 2000 characters."], (await styles.CreateAsync(anaP, null, Draft("Long", new string('p', 2001)))).Errors);
        Assert.Equal(["A style's negative prompt has at most 2000 characters."], (await styles.CreateAsync(anaP, null, Draft("Long", "p", new string('n', 2001)))).Errors);
        Assert.Equal([GenerationLimits.NulMessage], (await styles.CreateAsync(anaP, null, Draft("Nul", "a\0b"))).Errors);
        Assert.Equal(["A style prompt holds {prompt} at most once."], (await styles.CreateAsync(anaP, null, Draft("Twice", "{prompt} and {prompt}"))).Errors);
        var badDefaults = new StyleDraft
        {
            Name = "Defaults", Prompt = "x", Steps = 0, Guidance = 31, Width = 100, Height = 4096, Model = new string('m', 201), Scheduler = (SchedulerKind)99,
        };
        Assert.Equal(
            [
                "A model id has at most 200 characters.",
                "That scheduler does not exist.",
                "Steps are between 1 and 150.",
                "Guidance is between 0 and 30.",
                "Width is a multiple of 8 from 8 to 2048 pixels.",
                "Height is a multiple of 8 from 8 to 2048 pixels.",
            ],
            (await styles.CreateAsync(anaP, null, badDefaults)).Errors);

        var good = new StyleDraft
        {
            Name = "Full", Prompt = "{prompt}, detailed", NegativePrompt = "blurry", Model = "t2istudio-tiny", Scheduler = SchedulerKind.Ddim, Steps = 12, Guidance = 5.5, Width = 64, Height = 128,
        };
        var full = (await styles.GetAsync(anaP, (await styles.CreateAsync(anaP, null, good)).Id!.Value))!;
        Assert.Equal(("t2istudio-tiny", SchedulerKind.Ddim, 12, 5.5, 64, 128), (full.Model, full.Scheduler, full.Steps, full.Guidance, full.Width, full.Height));
        Assert.Equal(["Cinematic", "Full", "SKETCH"], (await styles.ListAsync(anaP))[0].Styles.Select(s => s.Name));
    }

    [Fact]
    public async Task A_submit_with_a_style_runs_the_expanded_prompt_and_its_png_records_it_with_the_style_name_and_the_persons_own_words()
    {
        using var app = NewApp();
        var user = await app.CreateUserAsync("png-style@example.test");
        using var scope = app.Services.CreateScope();
        var styles = scope.ServiceProvider.GetRequiredService<StyleLibrary>();
        var principal = StudioAppFactory.PrincipalOf(user);
        var styleId = (await styles.CreateAsync(principal, null, Draft("Poster", "vintage poster of {prompt}, bold colours", "text, watermark"))).Id!.Value;
        var request = GenerationQueueTests.Request(prompt: "a red circle", steps: 2);

        var (jobId, imageIds) = await app.GenerateAsync(user, request with { StyleId = styleId, Request = request.Request with { NegativePrompt = "blurry" } });

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
        Assert.Equal("vintage poster of a red circle, bold colours", job.Prompt);
        var jobStored = GenerationMetadata.ReadStoredRequest(job.RequestJson)!;
        Assert.Equal(new StyleUse { Name = "Poster", Id = styleId, Prompt = "a red circle", NegativePrompt = "blurry" }, jobStored.Style);

        var image = await db.Images.SingleAsync(i => i.Id == imageIds.Single());
        var imageStored = GenerationMetadata.ReadStoredRequest(image.RequestJson)!;
        Assert.Equal("vintage poster of a red circle, bold colours", imageStored.Prompt);
        Assert.Equal("blurry, text, watermark", imageStored.NegativePrompt);
        Assert.Equal(jobStored.Style, imageStored.Style);
        Assert.StartsWith("vintage poster of a red circle, bold colours\nNegative prompt: blurry, text, watermark\n", image.Parameters, StringComparison.Ordinal);
        Assert.EndsWith(", Style: Poster", image.Parameters, StringComparison.Ordinal);

        var bytes = await File.ReadAllBytesAsync(app.Services.GetRequiredService<ImageStore>().PathOf(image.FileKey));
        using var stream = new MemoryStream(bytes);
        var text = PngFiles.ReadText(stream);
        Assert.Equal(image.Parameters, text.Parameters);
        Assert.Equal("Poster", GenerationMetadata.ReadStoredRequest(text.RequestJson)!.Style!.Name);

        // Prompt history keeps the person's own words: reused with the style still chosen, it expands once.
        var history = await db.Prompts.SingleAsync(p => p.Id == job.PromptId);
        Assert.Equal(("a red circle", "blurry"), (history.Text, history.NegativeText));
    }
}

using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Extensions;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Components.Create;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Preferences;
using T2IStudio.Web.Styles;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

/// <summary>Styles on Create: the picker applies a style's defaults, the preview shows the expansion, Reuse parameters brings the style back.</summary>
public sealed class CreatePageStyleTests : StudioComponentTestBase
{
    [Fact]
    public async Task Choosing_a_style_applies_its_defaults_and_the_preview_follows_the_typing_and_generate_runs_the_expansion()
    {
        var user = await SignInAsync("style-create@example.test");
        await CreateStyleAsync(user.Id, new StyleDraft { Name = "Poster", Prompt = "vintage poster of {prompt}", NegativePrompt = "text", Steps = 33, Scheduler = SchedulerKind.Ddim });
        var page = Render<CreatePage>();
        page.WaitForAssertion(() => page.Find("textarea"));
        Assert.Empty(page.FindAll("[data-testid=style-preview]"));

        await page.InvokeAsync(() => page.Find("input[role=combobox][aria-label='Style']").Click());
        await page.InvokeAsync(() => page.FindAll("[role=option]").Single(o => o.GetAttribute("aria-label") == "Poster (My styles)").Click());
        await page.InvokeAsync(() => page.FindAll("textarea")[0].Input("a lighthouse"));

        page.WaitForAssertion(() =>
        {
            Assert.Equal("Expanded prompt: vintage poster of a lighthouse", page.Find("[data-testid=expanded-prompt]").TextContent.Trim());
            Assert.Equal("Expanded negative prompt: text", page.Find("[data-testid=expanded-negative]").TextContent.Trim());
            Assert.Equal("33", page.FindAll("input").Single(i => i.Id == LabelTarget(page, "Steps")).GetAttribute("value"));
        });
        Assert.Contains("Your prompt goes where the style's {prompt} stands", page.Markup, StringComparison.Ordinal);

        await page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Generate").Click());
        Job? job = null;
        await page.WaitForAssertionAsync(async () =>
        {
            await using var db = CreateDb();
            job = await db.Jobs.SingleOrDefaultAsync(j => j.OwnerId == user.Id);
            Assert.NotNull(job);
        });
        Assert.Equal("vintage poster of a lighthouse", job!.Prompt);
        Assert.Equal((33, "Poster"), (job.TotalSteps, GenerationMetadata.ReadStoredRequest(job.RequestJson)!.Style!.Name));

        // The next visit remembers the style.
        var again = Render<CreatePage>();
        again.WaitForAssertion(() => Assert.Equal("Expanded prompt: vintage poster of a lighthouse", again.Find("[data-testid=expanded-prompt]").TextContent.Trim()));
    }

    [Fact]
    public async Task Reuse_parameters_of_a_styled_image_selects_the_style_again_with_the_persons_own_prompt_and_without_it_fills_the_expansion()
    {
        var user = await SignInAsync("style-reuse@example.test");
        var styleId = await CreateStyleAsync(user.Id, new StyleDraft { Name = "Noir", Prompt = "{prompt}, film noir", NegativePrompt = "colour" });
        var styled = await AddStyledImageAsync(user.Id, new StyleUse { Name = "Noir", Id = styleId, Prompt = "a detective", NegativePrompt = "blurry" });
        var orphan = await AddStyledImageAsync(user.Id, new StyleUse { Name = "Retired", Id = Guid.NewGuid(), Prompt = "a harbour", NegativePrompt = "" }, "a harbour, retired look");

        var navigation = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        navigation.NavigateTo($"/create?from={styled}");
        var page = Render<CreatePage>();

        page.WaitForAssertion(() =>
        {
            Assert.Equal("Noir · My styles", page.Find("input[role=combobox][aria-label='Style']").GetAttribute("value"));
            Assert.Equal("a detective", page.FindAll("textarea")[0].GetAttribute("value") ?? page.FindAll("textarea")[0].TextContent);
            Assert.Equal("Expanded prompt: a detective, film noir", page.Find("[data-testid=expanded-prompt]").TextContent.Trim());
            Assert.Equal("Expanded negative prompt: blurry, colour", page.Find("[data-testid=expanded-negative]").TextContent.Trim());
        });

        // "Reuse parameters" from the lightbox on the page changes only the query.
        await page.InvokeAsync(() => navigation.NavigateTo($"/create?from={orphan}"));

        page.WaitForAssertion(() =>
        {
            Assert.Equal("a harbour, retired look", page.FindAll("textarea")[0].GetAttribute("value") ?? page.FindAll("textarea")[0].TextContent);
            Assert.Empty(page.FindAll("[data-testid=style-preview]"));
        });
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message?.Contains("\"Retired\" is no longer available", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void The_form_model_drops_a_gone_style_and_variations_run_the_stored_expansion_without_a_style()
    {
        var gone = Guid.NewGuid();
        var settings = new GenerationSettings();
        settings.Recall(new CreateSettings { StyleId = gone }, [], []);
        Assert.Null(settings.StyleId);
        var kept = Guid.NewGuid();
        settings.Recall(new CreateSettings { StyleId = kept }, [], [kept]);
        Assert.Equal(kept, settings.ToJob().StyleId);
        Assert.Equal(kept, settings.Remember().StyleId);

        var stored = new StoredRequest
        {
            Model = "t2istudio-tiny", Prompt = "a cat, watercolour", NegativePrompt = "lowres", Steps = 4, GuidanceScale = 3, Width = 64, Height = 64, Seed = 1,
            Style = new StyleUse { Name = "Watercolour", Id = kept, Prompt = "a cat" },
        };
        var variations = GenerationSettings.FromStored(stored);
        Assert.Equal(("a cat, watercolour", "lowres", (Guid?)null), (variations.Prompt, variations.NegativePrompt, variations.StyleId));
    }

    [Fact]
    public void A_style_sets_only_the_defaults_it_has_and_a_model_that_is_not_installed_is_left_alone()
    {
        AddGenerationServices();
        var models = Services.GetRequiredService<ModelHost>().Catalog.List();
        var settings = new GenerationSettings();
        settings.UseModel(models.Single(m => m.Id == "t2istudio-tiny"));
        settings.Guidance = 4;
        var style = new StyleView(Guid.NewGuid(), "Wide", "", "", null, StyleLibrary.MyStylesLabel, true,
            "no-such-model", SchedulerKind.Ddim, null, null, 128, 64, Guid.NewGuid());

        Assert.Null(settings.ApplyStyle(style, models));

        Assert.Equal(("t2istudio-tiny", SchedulerKind.Ddim, 4.0, 128, 64, (Guid?)style.Id), (settings.Model, settings.Scheduler, settings.Guidance, settings.Width, settings.Height, settings.StyleId));
        Assert.Contains(128, settings.Sizes);
        settings.ApplyStyle(null, models);
        Assert.Null(settings.StyleId);
    }

    private async Task<Guid> CreateStyleAsync(string userId, StyleDraft draft)
    {
        var result = await Services.GetRequiredService<StyleLibrary>().CreateAsync(Principal(userId), null, draft);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors));
        return result.Id!.Value;
    }

    private async Task<Guid> AddStyledImageAsync(string ownerId, StyleUse style, string? expandedPrompt = null)
    {
        var stored = new StoredRequest
        {
            Model = "t2istudio-tiny", Prompt = expandedPrompt ?? StyleExpansion.Prompt(style.Prompt, "{prompt}, film noir"),
            NegativePrompt = StyleExpansion.NegativePrompt(style.NegativePrompt, "colour"), Steps = 6, GuidanceScale = 5, Width = 64, Height = 64,
            Seed = 77, Scheduler = SchedulerKind.Ddim, Style = style,
        };
        var now = DateTimeOffset.UtcNow;
        var job = new Job
        {
            Id = Guid.NewGuid(), OwnerId = ownerId, Status = JobStatus.Completed, Model = stored.Model, Prompt = stored.Prompt,
            RequestJson = GenerationMetadata.ToJson(stored), BatchSize = 1, TotalSteps = 6, Step = 6, Width = 64, Height = 64, CreatedAt = now, FinishedAt = now,
        };
        var image = new GeneratedImage
        {
            Id = Guid.NewGuid(), OwnerId = ownerId, JobId = job.Id, Seed = 77, Model = stored.Model, Prompt = stored.Prompt, NegativePrompt = stored.NegativePrompt,
            Width = 64, Height = 64, RequestJson = GenerationMetadata.ToJson(stored), FileKey = Guid.NewGuid(), Sha256 = new string('0', 64), SizeBytes = 3, CreatedAt = now,
        };
        await using var db = CreateDb();
        db.Jobs.Add(job);
        db.Images.Add(image);
        await db.SaveChangesAsync();
        return image.Id;
    }

    private static string LabelTarget(IRenderedComponent<CreatePage> page, string label) =>
        page.FindAll("label").First(l => l.TextContent.Trim() == label).GetAttribute("for")!;
}

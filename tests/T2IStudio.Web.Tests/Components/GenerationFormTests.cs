using Bunit;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Components.Create;
using T2IStudio.Web.Galleries;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

public sealed class GenerationFormTests : StudioComponentTestBase
{
    private static readonly ModelInfo Tiny = ModelCatalog.Inspect(Path.Combine(RepositoryRoot.Path, "models", "t2istudio-tiny"));

    [Fact]
    public void Closed_selects_render_no_items_yet_show_the_chosen_items_text_and_the_number_fields_keep_their_role_and_clamp()
    {
        var settings = new GenerationSettings();
        settings.UseModel(Tiny);
        var gallery = Guid.NewGuid();
        settings.SaveTo = gallery;
        var form = Render<GenerationForm>(p => p.Add(f => f.Settings, settings).Add(f => f.Models, [Tiny])
            .Add(f => f.SaveTargets, [new GallerySummary(gallery, "Moodboard", Guid.NewGuid(), "Studio", T2IStudio.Data.Entities.TeamRole.Owner, 0)]));

        Assert.Empty(form.FindAll("[role=option]"));
        Assert.Equal($"{settings.Width} px", Combobox(form, "Width").GetAttribute("value"));
        Assert.Equal("Moodboard (Studio)", Combobox(form, "Save to").GetAttribute("value"));
        Assert.Equal(SchedulerFactory.DisplayName(settings.Scheduler), Combobox(form, "Scheduler").GetAttribute("value"));

        var stepsId = form.FindAll("label").Single(l => l.TextContent.Trim() == "Steps").GetAttribute("for");
        form.Find($"input[role=spinbutton][id='{stepsId}']").Change("100000");
        Assert.Equal(GenerationLimits.MaxSteps, settings.Steps);
        form.Find($"input[id='{stepsId}']").KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "ArrowDown" });
        Assert.Equal(GenerationLimits.MaxSteps - 1, settings.Steps);
        Assert.Equal((GenerationLimits.MaxSteps - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), form.Find($"input[id='{stepsId}']").GetAttribute("value"));
    }

    [Fact]
    public void The_selects_offer_their_choices_and_write_the_chosen_one_to_the_settings()
    {
        var settings = new GenerationSettings();
        settings.UseModel(Tiny);
        var gallery = Guid.NewGuid();
        var form = Render<GenerationForm>(p => p.Add(f => f.Settings, settings).Add(f => f.Models, [Tiny])
            .Add(f => f.SaveTargets, [new GallerySummary(gallery, "Moodboard", Guid.NewGuid(), "Studio", T2IStudio.Data.Entities.TeamRole.Owner, 0)]));

        Combobox(form, "Save to").Click();
        Assert.Equal(["My images", "Moodboard (Studio)"], form.FindAll("[role=option]").Select(o => o.TextContent.Trim()));
        form.FindAll("[role=option]").Single(o => o.TextContent.Trim() == "Moodboard (Studio)").Click();
        Assert.Equal(gallery, settings.SaveTo);

        var side = settings.Sizes.First(s => s != settings.Height);
        Combobox(form, "Height").Click();
        form.FindAll("[role=option]").Single(o => o.TextContent.Trim() == $"{side} px").Click();
        Assert.Equal(side, settings.Height);
        Assert.Equal($"{side} px", Combobox(form, "Height").GetAttribute("value"));
    }

    private static AngleSharp.Dom.IElement Combobox(IRenderedComponent<GenerationForm> form, string label) =>
        form.Find($"input[role=combobox][aria-label='{label}']");
}

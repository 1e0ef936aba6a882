using Bunit;
using MudBlazor;
using MudBlazor.Extensions;
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

        Assert.Empty(form.FindComponents<MudSelectItem<int>>());
        Assert.Equal($"{settings.Width} px", Text(form.FindComponents<MudSelect<int>>().Single(s => s.Instance.Label == "Width")));
        Assert.Equal("Moodboard (Studio)", Text(form.FindComponents<MudSelect<Guid?>>().Single(s => s.Instance.Label == "Save to")));
        Assert.Equal(SchedulerFactory.DisplayName(settings.Scheduler), Text(form.FindComponents<MudSelect<SchedulerKind>>().Single()));

        var stepsId = form.FindAll("label").Single(l => l.TextContent.Trim() == "Steps").GetAttribute("for");
        form.Find($"input[role=spinbutton][id='{stepsId}']").Change("100000");
        Assert.Equal(GenerationLimits.MaxSteps, settings.Steps);
        form.Find($"input[id='{stepsId}']").KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "ArrowDown" });
        Assert.Equal(GenerationLimits.MaxSteps - 1, settings.Steps);
        Assert.Equal((GenerationLimits.MaxSteps - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), form.Find($"input[id='{stepsId}']").GetAttribute("value"));
    }

    private static string? Text<T>(IRenderedComponent<MudSelect<T>> select) => select.Instance.GetState(x => x.Text);
}

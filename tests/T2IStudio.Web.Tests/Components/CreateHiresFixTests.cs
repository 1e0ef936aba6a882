using Bunit;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Upscaling;
using T2IStudio.Web.Components.Create;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Preferences;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

public sealed class CreateHiresFixTests : StudioComponentTestBase
{
    private static readonly ModelInfo Tiny = ModelCatalog.Inspect(Path.Combine(RepositoryRoot.Path, "models", "t2istudio-tiny"));

    private static readonly UpscalerInfo X4 = new("t2istudio-tiny-x4", "/nowhere", true, null, 4, "Tiny ×4");

    [Fact]
    public void The_Hires_fix_switch_reveals_its_labelled_controls_with_the_embedded_models_defaults()
    {
        var settings = new GenerationSettings();
        settings.UseModel(Tiny);
        settings.OfferUpscaler(X4.Id);
        var form = Render<GenerationForm>(p => p.Add(f => f.Settings, settings).Add(f => f.Models, [Tiny]).Add(f => f.Upscalers, [X4]));
        Assert.DoesNotContain(form.FindAll("label"), l => l.TextContent.Trim() == "Upscale by");

        form.FindAll("label").Single(l => l.TextContent.Trim() == "Hires fix").QuerySelector("input")!.Change(true);

        Assert.True(settings.HiresFix);
        foreach (var label in new[] { "Upscale by", "Denoising strength", "Upscaler" })
        {
            Assert.Contains(form.FindAll("label"), l => l.TextContent.Trim() == label);
        }
        Assert.Contains("64×64, upscaled and refined to 256×256", form.Find(".studio-hires-size").TextContent, StringComparison.Ordinal);
        Assert.Equal(new HiresOptions { Scale = 4, Strength = GenerationSettings.DefaultHiresStrength, Upscaler = X4.Id }, settings.ToJob().Hires);
    }

    [Fact]
    public void The_Upscaler_select_shows_display_names_and_Lanczos_for_the_plain_resize()
    {
        var settings = new GenerationSettings();
        settings.UseModel(Tiny);
        settings.OfferUpscaler(X4.Id);
        settings.HiresFix = true;
        var form = Render<GenerationForm>(p => p.Add(f => f.Settings, settings).Add(f => f.Models, [Tiny]).Add(f => f.Upscalers, [X4]));
        IEnumerable<string?> Shown() => form.FindAll("input").Select(i => i.GetAttribute("value"));

        Assert.Contains("Tiny ×4 (×4)", Shown());
        Assert.DoesNotContain(X4.Id, Shown());

        settings.HiresUpscaler = "";
        form.Render();
        Assert.Contains("Lanczos (plain resize)", Shown());
    }

    [Fact]
    public void Hires_fix_is_remembered_and_brought_back_by_reuse_parameters()
    {
        var settings = new GenerationSettings();
        settings.UseModel(Tiny);
        settings.HiresFix = true;
        settings.HiresScale = 3;
        settings.HiresStrength = 0.3;
        settings.HiresUpscaler = "";

        var remembered = CreateSettings.FromJson(settings.Remember().ToJson());
        var next = new GenerationSettings();
        next.UseModel(Tiny, remembered);
        next.OfferUpscaler(X4.Id); // the person chose Lanczos: it stays Lanczos
        Assert.Equal(new HiresOptions { Scale = 3, Strength = 0.3, Upscaler = null }, next.Hires);

        var stored = GenerationMetadata.Describe(next.ToRequest(), Tiny.Id, 0) with { Hires = next.Hires };
        var reused = new GenerationSettings();
        reused.UseModel(Tiny);
        reused.Reuse(stored);
        Assert.True(reused.HiresFix);
        Assert.Equal(next.Hires, reused.Hires);

        var plain = new GenerationSettings();
        plain.UseModel(Tiny, remembered);
        plain.Reuse(stored with { Hires = null });
        Assert.Null(plain.Hires);
    }
}

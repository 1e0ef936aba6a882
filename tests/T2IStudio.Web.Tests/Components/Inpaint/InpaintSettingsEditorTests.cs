using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Web.Components.Inpaint;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Inpaint;

public sealed class InpaintSettingsEditorTests : StudioComponentTestBase
{
    [Fact]
    public void The_number_fields_take_their_bounds_from_GenerationLimits()
    {
        var editor = RenderEditor(new InpaintSettings { ModelId = "t2istudio-tiny" }, _ => { });

        Assert.Equal((InpaintSettingsEditor.MinStrength, GenerationLimits.MaxStrength), Bounds<double>(editor, "Denoising strength"));
        Assert.Equal((0, GenerationLimits.MaxMaskBlur), Bounds<int>(editor, "Mask blur"));
        Assert.Equal((0, GenerationLimits.MaxPadding), Bounds<int>(editor, "Padding"));
        Assert.Equal((GenerationLimits.MinSteps, GenerationLimits.MaxSteps), Bounds<int>(editor, "Steps"));
        // The strength field starts one step above nothing, and only there.
        Assert.Equal(GenerationLimits.MinStrength + InpaintSettingsEditor.StrengthStep, InpaintSettingsEditor.MinStrength);
    }

    [Fact]
    public void A_changed_field_comes_back_as_new_settings_with_the_other_choices_kept()
    {
        var settings = new InpaintSettings { ModelId = "t2istudio-tiny", Strength = 0.6, MaskBlur = 4, OnlyMasked = true, Padding = 32, Steps = 20, Seed = 42 };
        var raised = new List<InpaintSettings>();
        var editor = RenderEditor(settings, raised.Add);

        editor.Find($"#{LabelTarget(editor, "Mask blur")}").Change("12");
        editor.Find($"#{LabelTarget(editor, "Padding")}").Change("48");

        Assert.Equal([settings with { MaskBlur = 12 }, settings with { Padding = 48 }], raised);
    }

    [Fact]
    public void A_value_past_the_limit_comes_back_clamped_to_it()
    {
        InpaintSettings? raised = null;
        var editor = RenderEditor(new InpaintSettings { OnlyMasked = true }, s => raised = s);

        editor.Find($"#{LabelTarget(editor, "Mask blur")}").Change((GenerationLimits.MaxMaskBlur + 100).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(GenerationLimits.MaxMaskBlur, raised?.MaskBlur);
    }

    [Fact]
    public void Padding_is_editable_only_for_the_masked_area_and_the_seed_says_the_working_size()
    {
        var whole = RenderEditor(new InpaintSettings { OnlyMasked = false }, _ => { });
        Assert.True(whole.Find($"#{LabelTarget(whole, "Padding")}").HasAttribute("disabled"));
        Assert.Contains("Works at 512 × 384, pasted back at full size", whole.Markup, StringComparison.Ordinal);

        var masked = RenderEditor(new InpaintSettings { OnlyMasked = true }, _ => { });
        Assert.False(masked.Find($"#{LabelTarget(masked, "Padding")}").HasAttribute("disabled"));
    }

    [Fact]
    public void Random_seed_raises_settings_with_a_new_seed_and_nothing_else_changed()
    {
        var settings = new InpaintSettings { ModelId = "t2istudio-tiny", Seed = 7 };
        InpaintSettings? raised = null;
        var editor = RenderEditor(settings, s => raised = s);

        editor.Find("button[aria-label='Random seed']").Click();

        Assert.NotNull(raised);
        Assert.NotEqual(7UL, raised.Seed);
        Assert.Equal(settings with { Seed = raised.Seed }, raised);
    }

    private List<ModelInfo>? _models;

    private IRenderedComponent<InpaintSettingsEditor> RenderEditor(InpaintSettings settings, Action<InpaintSettings> changed)
    {
        if (_models is null)
        {
            AddGenerationServices();
            _models = [.. Services.GetRequiredService<ModelHost>().Catalog.List().Where(m => m.IsAvailable && m.Traits!.HasVaeEncoder)];
        }
        return Render<InpaintSettingsEditor>(p => p
            .Add(e => e.Models, _models)
            .Add(e => e.Settings, settings)
            .Add(e => e.SettingsChanged, changed)
            .Add(e => e.WorkingSize, (512, 384)));
    }

    private static (T? Min, T? Max) Bounds<T>(IRenderedComponent<InpaintSettingsEditor> editor, string label)
    {
        var field = editor.FindComponents<MudNumericField<T>>().Single(f => f.Instance.Label == label).Instance;
        return (field.Min, field.Max);
    }

    private static string LabelTarget(IRenderedComponent<InpaintSettingsEditor> editor, string label) =>
        editor.FindAll("label").First(l => l.TextContent.Trim() == label).GetAttribute("for")!;
}

using Microsoft.AspNetCore.Components;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;

namespace T2IStudio.Web.Components.Inpaint;

/// <summary>
/// The Inpaint form's settings (model, denoising strength, mask blur, masked content, inpaint area, padding, steps,
/// seed). The fields' bounds come from <see cref="GenerationLimits"/>, the same numbers the pipeline checks; every
/// change comes back as a new <see cref="InpaintSettings"/> through <see cref="SettingsChanged"/>.
/// </summary>
public sealed partial class InpaintSettingsEditor
{
    /// <summary>The step the strength field moves by.</summary>
    public const double StrengthStep = 0.05;

    /// <summary>
    /// The lowest strength the field offers: one step above nothing, since a strength of 0 would give back the
    /// source unchanged (the pipeline accepts it; the form does not offer it).
    /// </summary>
    public const double MinStrength = GenerationLimits.MinStrength + StrengthStep;

    /// <summary>The models that can inpaint, in the order to offer them.</summary>
    [Parameter, EditorRequired] public IReadOnlyList<ModelInfo> Models { get; set; } = [];

    /// <summary>The current settings.</summary>
    [Parameter, EditorRequired] public InpaintSettings Settings { get; set; } = new();

    /// <summary>Raised with the settings after a change to any field.</summary>
    [Parameter] public EventCallback<InpaintSettings> SettingsChanged { get; set; }

    /// <summary>The size the model works at for this image, shown under the seed.</summary>
    [Parameter] public (int Width, int Height) WorkingSize { get; set; }

    private Task ModelChangedAsync(string id) =>
        Models.FirstOrDefault(m => m.Id == id) is { } model ? ChangeAsync(Settings.WithModel(model)) : ChangeAsync(Settings with { ModelId = id });

    private Task ChangeAsync(InpaintSettings settings) => SettingsChanged.InvokeAsync(settings);
}

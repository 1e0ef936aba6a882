using T2IStudio.Generation.Models;

namespace T2IStudio.Generation.Workers;

/// <summary>
/// What a worker announces it can run (<see cref="WorkerHello.Models"/>) and what a job names in its model column:
/// a diffusion model by its id, an upscaler as <c>upscaler:ID</c>, so an upscale job is leased only to a worker
/// that has that upscaler and the two kinds of folder never clash on a name.
/// </summary>
public static class WorkerModels
{
    /// <summary>The prefix of an upscaler's name in the model lists.</summary>
    public const string UpscalerPrefix = "upscaler:";

    /// <summary>The name an upscale job with upscaler <paramref name="id"/> is queued under.</summary>
    public static string ForUpscaler(string id) => UpscalerPrefix + id;

    /// <summary>The upscaler id in <paramref name="model"/>, or null when it names a diffusion model.</summary>
    public static string? UpscalerOf(string model) =>
        model is not null && model.StartsWith(UpscalerPrefix, StringComparison.Ordinal) ? model[UpscalerPrefix.Length..] : null;

    /// <summary>Every diffusion model and available upscaler under <paramref name="host"/>'s roots.</summary>
    public static IReadOnlyList<string> Of(ModelHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return [.. host.Catalog.List().Select(m => m.Id), .. host.Upscalers.List().Where(u => u.IsAvailable).Select(u => ForUpscaler(u.Id))];
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Evaluation;

/// <summary>A model's evaluation set (<c>evaluation.json</c> in its folder): prompts with fixed seeds and settings.</summary>
public sealed record EvaluationSet
{
    /// <summary>Image width.</summary>
    public int Width { get; init; } = 64;

    /// <summary>Image height.</summary>
    public int Height { get; init; } = 64;

    /// <summary>Steps per image.</summary>
    public int Steps { get; init; } = 25;

    /// <summary>The sampler.</summary>
    public SchedulerKind Scheduler { get; init; } = SchedulerKind.Ddim;

    /// <summary>Guidance scale.</summary>
    public double Guidance { get; init; } = 4;

    /// <summary>The prompts and their seeds.</summary>
    public IReadOnlyList<EvaluationPrompt> Prompts { get; init; } = [];

    /// <summary>Named prompts (the emoji half) generated for a contact sheet and judged by eye, not scored.</summary>
    public IReadOnlyList<EvaluationPrompt> Named { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Reads <c>evaluation.json</c>.</summary>
    public static EvaluationSet Load(string path) =>
        JsonSerializer.Deserialize<EvaluationSet>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty.");
}

/// <summary>One evaluation prompt.</summary>
/// <param name="Prompt">A shapes caption.</param>
/// <param name="Seed">Its fixed seed.</param>
public sealed record EvaluationPrompt(string Prompt, ulong Seed);

/// <summary>One generated image and how it scored.</summary>
/// <param name="Prompt">What was asked.</param>
/// <param name="Image">What came out.</param>
/// <param name="Verdict">The analyser's verdict.</param>
public sealed record EvaluationResult(EvaluationPrompt Prompt, RgbImage Image, ShapeVerdict Verdict);

/// <summary>Generates an evaluation set and scores it with <see cref="ShapeAnalyzer"/>.</summary>
public static class ShapeEvaluation
{
    /// <summary>Runs every prompt of <paramref name="set"/> on <paramref name="model"/>.</summary>
    public static async Task<IReadOnlyList<EvaluationResult>> RunAsync(LoadedModel model, EvaluationSet set, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        var pipeline = new StableDiffusionPipeline(model) { PreviewEvery = 0 };
        var results = new List<EvaluationResult>();
        foreach (var prompt in set.Prompts)
        {
            var caption = ShapeCaption.TryParse(prompt.Prompt) ?? throw new InvalidDataException($"'{prompt.Prompt}' is not a shapes caption.");
            var image = await GenerateAsync(pipeline, set, prompt, cancellationToken);
            results.Add(new EvaluationResult(prompt, image, ShapeAnalyzer.Judge(image, caption)));
            progress?.Report(results.Count);
        }
        return results;
    }

    /// <summary>Generates the set's <see cref="EvaluationSet.Named"/> prompts with the set's settings, in order.</summary>
    public static async Task<IReadOnlyList<RgbImage>> GenerateNamedAsync(LoadedModel model, EvaluationSet set, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        var pipeline = new StableDiffusionPipeline(model) { PreviewEvery = 0 };
        var images = new List<RgbImage>();
        foreach (var prompt in set.Named)
        {
            images.Add(await GenerateAsync(pipeline, set, prompt, cancellationToken));
        }
        return images;
    }

    private static async Task<RgbImage> GenerateAsync(StableDiffusionPipeline pipeline, EvaluationSet set, EvaluationPrompt prompt, CancellationToken cancellationToken)
    {
        var generated = await pipeline.GenerateAsync(new GenerationRequest
        {
            Prompt = prompt.Prompt,
            Seed = prompt.Seed,
            Width = set.Width,
            Height = set.Height,
            Steps = set.Steps,
            Scheduler = set.Scheduler,
            GuidanceScale = set.Guidance,
        }, null, cancellationToken);
        return generated.Images[0];
    }

    /// <summary>A grid of images, each scaled up <paramref name="scale"/>× (nearest: the pixels as generated), with a 2 px white gutter.</summary>
    public static RgbImage ContactSheet(IReadOnlyList<RgbImage> images, int columns = 8, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(images);
        var tile = images[0].Width * scale;
        const int gutter = 2;
        var rows = (images.Count + columns - 1) / columns;
        int width = columns * (tile + gutter) + gutter, height = rows * (tile + gutter) + gutter;
        var sheet = RgbImage.Filled(width, height, 255, 255, 255);
        for (var i = 0; i < images.Count; i++)
        {
            int ox = gutter + i % columns * (tile + gutter), oy = gutter + i / columns * (tile + gutter);
            var image = images[i];
            for (var y = 0; y < image.Height * scale; y++)
            {
                for (var x = 0; x < image.Width * scale; x++)
                {
                    Array.Copy(image.Pixels, (y / scale * image.Width + x / scale) * 3, sheet.Pixels, ((oy + y) * width + ox + x) * 3, 3);
                }
            }
        }
        return sheet;
    }
}

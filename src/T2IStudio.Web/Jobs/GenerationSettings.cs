using T2IStudio.Generation.Models;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Preferences;
using T2IStudio.Web.Styles;

namespace T2IStudio.Web.Jobs;

/// <summary>
/// The parameters of a text-to-image job as a person edits them: the one form model. Create binds it; "Reuse
/// parameters" fills it from a stored image (<see cref="Reuse"/>), Variations builds its job from one
/// (<see cref="FromStored"/>), the remembered Create settings round-trip through it (<see cref="Remember"/>,
/// <see cref="UseModel"/>), and an API maps its body onto it. Its bounds are <see cref="GenerationLimits"/>, which
/// the pipeline's validation reads too, so the form and the server never disagree.
/// </summary>
public sealed class GenerationSettings
{
    /// <summary>The model id.</summary>
    public string Model { get; set; } = "";

    /// <summary>The prompt (weighting syntax allowed).</summary>
    public string Prompt { get; set; } = "";

    /// <summary>The negative prompt.</summary>
    public string NegativePrompt { get; set; } = "";

    /// <summary>The sampler.</summary>
    public SchedulerKind Scheduler { get; set; } = SchedulerKind.EulerAncestral;

    /// <summary>Denoising steps (<see cref="GenerationLimits.MinSteps"/>–<see cref="GenerationLimits.MaxSteps"/>).</summary>
    public int Steps { get; set; } = 20;

    /// <summary>Guidance scale (<see cref="GenerationLimits.MinGuidance"/>–<see cref="GenerationLimits.MaxGuidance"/>).</summary>
    public double Guidance { get; set; } = 7;

    /// <summary>Width in pixels (one of <see cref="Sizes"/>).</summary>
    public int Width { get; set; } = 512;

    /// <summary>Height in pixels (one of <see cref="Sizes"/>).</summary>
    public int Height { get; set; } = 512;

    /// <summary>The seed of the next run.</summary>
    public ulong Seed { get; set; } = Seeds.NewRandom();

    /// <summary>Keep <see cref="Seed"/> for every run instead of a new random one.</summary>
    public bool SeedLocked { get; set; }

    /// <summary>Images per job (<see cref="GenerationLimits.MinBatchSize"/>–<see cref="GenerationLimits.MaxBatchSize"/>).</summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>A gallery to put the images in too ("Save to"); null for the person's own images only.</summary>
    public Guid? SaveTo { get; set; }

    /// <summary>The style applied on submit (the server expands the prompts with it); null for none.</summary>
    public Guid? StyleId { get; set; }

    /// <summary>"Hires fix": generate at the chosen size, upscale, then refine at the larger size, in one job.</summary>
    public bool HiresFix { get; set; }

    /// <summary>Hires fix: "Upscale by" (more than 1, at most 4).</summary>
    public double HiresScale { get; set; } = 2;

    /// <summary>Hires fix: the second pass's "Denoising strength".</summary>
    public double HiresStrength { get; set; } = DefaultHiresStrength;

    /// <summary>
    /// Hires fix: the upscaler's id; empty for a Lanczos resize; null until the page picks the first available
    /// upscaler (<see cref="OfferUpscaler"/>).
    /// </summary>
    public string? HiresUpscaler { get; set; }

    /// <summary>
    /// The second pass's strength Create starts with (the command line's too): enough to redraw edges the enlargement
    /// softened, little enough to keep the first pass's composition. On the embedded model at 64 → 256 px, 0.3–0.35
    /// gave clean sharp shapes, 0.45 streaks inside them and 0.6 broke shapes apart (the model was trained at 64 px).
    /// </summary>
    public const double DefaultHiresStrength = 0.35;

    /// <summary>
    /// The factor Create starts with for a model of native side <paramref name="native"/>: ×4 for the small
    /// embedded models (64 → 256 px), A1111's ×2 for the rest.
    /// </summary>
    public static double DefaultHiresScale(int native) => native <= 128 ? 4 : 2;

    /// <summary>Picks <paramref name="upscalerId"/> (the first available upscaler, or empty for Lanczos) unless the person chose already.</summary>
    public void OfferUpscaler(string? upscalerId) => HiresUpscaler ??= upscalerId ?? "";

    /// <summary>The hires fix the job runs, or null when it is off.</summary>
    public HiresOptions? Hires => HiresFix
        ? new HiresOptions { Scale = HiresScale, Strength = HiresStrength, Upscaler = string.IsNullOrEmpty(HiresUpscaler) ? null : HiresUpscaler }
        : null;

    /// <summary>The sides the size pickers offer: around the model's native size, multiples of its VAE factor.</summary>
    public IReadOnlyList<int> Sizes { get; private set; } = [];

    /// <summary>The samplers the model can run (LCM models run only LCM; the others everything else).</summary>
    public static IReadOnlyList<SchedulerKind> SchedulersFor(ModelInfo? model) =>
        model?.Traits?.IsLcm == true ? [SchedulerKind.Lcm] : [.. Enum.GetValues<SchedulerKind>().Where(k => k != SchedulerKind.Lcm)];

    /// <summary>
    /// Switches to <paramref name="model"/>: its sizes, and its defaults wherever <paramref name="remembered"/> has
    /// nothing that fits (a remembered size the model does not offer, a step count out of range).
    /// </summary>
    public void UseModel(ModelInfo model, CreateSettings? remembered = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        remembered ??= new CreateSettings();
        var defaults = model.Traits?.Defaults ?? new ModelDefaults();
        Model = model.Id;
        Sizes = SizePresets(defaults, model.Traits?.VaeScaleFactor ?? 8);
        Scheduler = model.Traits?.IsLcm == true ? SchedulerKind.Lcm : remembered.Scheduler ?? defaults.Scheduler;
        Steps = GenerationLimits.ClampSteps(remembered.Steps ?? defaults.Steps);
        Guidance = GenerationLimits.ClampGuidance(remembered.Guidance ?? defaults.Guidance);
        Width = remembered.Width is { } w && Sizes.Contains(w) ? w : defaults.Width;
        Height = remembered.Height is { } h && Sizes.Contains(h) ? h : defaults.Height;
        BatchSize = GenerationLimits.ClampBatchSize(remembered.BatchSize ?? 1);
        HiresFix = remembered.HiresFix;
        HiresScale = remembered.HiresScale is { } scale && scale > HiresOptions.MinScale && scale <= HiresOptions.MaxScale
            ? scale : DefaultHiresScale(Math.Min(defaults.Width, defaults.Height));
        HiresStrength = remembered.HiresStrength is { } strength && strength is >= 0 and <= 1 ? strength : DefaultHiresStrength;
        HiresUpscaler = remembered.HiresUpscaler;
    }

    /// <summary>
    /// Takes what stays the same across models from the remembered settings: prompts, seed and its lock, "Save to",
    /// and the style while it is still one of <paramref name="usableStyles"/> (a deleted one is quietly dropped).
    /// </summary>
    public void Recall(CreateSettings remembered, IEnumerable<Guid> writableGalleries, IEnumerable<Guid>? usableStyles = null)
    {
        ArgumentNullException.ThrowIfNull(remembered);
        ArgumentNullException.ThrowIfNull(writableGalleries);
        Prompt = remembered.Prompt;
        NegativePrompt = remembered.NegativePrompt;
        Seed = remembered.Seed ?? Seeds.NewRandom();
        SeedLocked = remembered.SeedLocked;
        SaveTo = remembered.SaveTo is { } saveTo && writableGalleries.Contains(saveTo) ? saveTo : null;
        StyleId = remembered.StyleId is { } styleId && usableStyles?.Contains(styleId) == true ? styleId : null;
    }

    /// <summary>
    /// Chooses <paramref name="style"/> (or none) and takes its default parameters: its model when it is installed and
    /// available (returned, so the page can switch its tokenizer), sampler when the model runs it, steps, guidance and
    /// size. What the style leaves unset stays as it is.
    /// </summary>
    public ModelInfo? ApplyStyle(StyleView? style, IEnumerable<ModelInfo> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        StyleId = style?.Id;
        if (style is null)
        {
            return null;
        }
        ModelInfo? switched = null;
        if (style.Model is { } modelId && modelId != Model && models.FirstOrDefault(m => m.Id == modelId && m.IsAvailable) is { } model)
        {
            UseModel(model, Remember());
            switched = model;
        }
        var current = models.FirstOrDefault(m => m.Id == Model);
        if (style.Scheduler is { } scheduler && SchedulersFor(current).Contains(scheduler))
        {
            Scheduler = scheduler;
        }
        Steps = GenerationLimits.ClampSteps(style.Steps ?? Steps);
        Guidance = GenerationLimits.ClampGuidance(style.Guidance ?? Guidance);
        if (style.Width is { } width)
        {
            Width = width;
        }
        if (style.Height is { } height)
        {
            Height = height;
        }
        Sizes = [.. Sizes.Union([Width, Height]).Order()];
        return switched;
    }

    /// <summary>
    /// "Reuse parameters": the stored image's prompt, sampler, steps, guidance, size and seed (locked), one image.
    /// The model is the caller's to switch first (it may not be installed); its size is offered even when the
    /// model's presets lack it. An image made with a style brings the style back with the person's own words when
    /// <paramref name="styleUsable"/> says it can still be used; otherwise the expanded prompt, with no style.
    /// </summary>
    /// <returns>False when the image was made with a style that is gone.</returns>
    public bool Reuse(StoredRequest stored, Func<Guid, bool>? styleUsable = null)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var styleBack = stored.Style is { Id: { } styleId } && styleUsable?.Invoke(styleId) == true;
        Prompt = styleBack ? stored.Style!.Prompt : stored.Prompt;
        NegativePrompt = styleBack ? stored.Style!.NegativePrompt : stored.NegativePrompt;
        StyleId = styleBack ? stored.Style!.Id : null;
        Steps = stored.Steps;
        Guidance = stored.GuidanceScale;
        Scheduler = stored.Scheduler;
        Width = stored.Width;
        Height = stored.Height;
        Sizes = [.. Sizes.Union([stored.Width, stored.Height]).Order()];
        Seed = stored.Seed;
        SeedLocked = true;
        BatchSize = 1;
        HiresFix = stored.Hires is not null;
        if (stored.Hires is { } hires)
        {
            HiresScale = hires.Scale;
            HiresStrength = hires.Strength;
            HiresUpscaler = hires.Upscaler ?? "";
        }
        return stored.Style is null || styleBack;
    }

    /// <summary>
    /// A form filled from a stored image's parameters, for a job built from it (Variations): a styled image's
    /// expanded prompt with no style, so the job runs what the image ran even after the style changed or went.
    /// </summary>
    public static GenerationSettings FromStored(StoredRequest stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var settings = new GenerationSettings { Model = stored.Model };
        settings.Reuse(stored);
        return settings;
    }

    /// <summary>Draws a new seed unless the person locked it; called once per run.</summary>
    public void NextSeed()
    {
        if (!SeedLocked)
        {
            Seed = Seeds.NewRandom();
        }
    }

    /// <summary>The request the pipeline runs.</summary>
    public GenerationRequest ToRequest() => new()
    {
        Prompt = Prompt,
        NegativePrompt = NegativePrompt,
        Steps = Steps,
        GuidanceScale = Guidance,
        Width = Width,
        Height = Height,
        Seed = Seed,
        BatchSize = BatchSize,
        Scheduler = Scheduler,
    };

    /// <summary>The job a page submits; <paramref name="idempotencyKey"/> is one per press of Generate.</summary>
    public JobRequest ToJob(string? idempotencyKey = null) => new()
    {
        Model = Model,
        IdempotencyKey = idempotencyKey,
        GalleryId = SaveTo,
        StyleId = StyleId,
        Request = ToRequest(),
        Hires = Hires,
    };

    /// <summary>What the Create page remembers for the person.</summary>
    public CreateSettings Remember() => new()
    {
        Model = Model,
        Prompt = Prompt,
        NegativePrompt = NegativePrompt,
        Scheduler = Scheduler,
        Steps = Steps,
        Guidance = Guidance,
        Width = Width,
        Height = Height,
        Seed = Seed,
        SeedLocked = SeedLocked,
        BatchSize = BatchSize,
        SaveTo = SaveTo,
        StyleId = StyleId,
        HiresFix = HiresFix,
        HiresScale = HiresScale,
        HiresStrength = HiresStrength,
        HiresUpscaler = HiresUpscaler,
    };

    /// <summary>Sizes around a model's native size, multiples of its VAE factor, up to <see cref="GenerationLimits.MaxSide"/>.</summary>
    public static IReadOnlyList<int> SizePresets(ModelDefaults defaults, int factor)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var native = Math.Min(defaults.Width, defaults.Height);
        return [.. new[] { 0.5, 0.75, 1, 1.25, 1.5, 2 }
            .Select(s => (int)(native * s) / factor * factor)
            .Append(defaults.Width).Append(defaults.Height)
            .Where(v => v >= factor && v <= GenerationLimits.MaxSide)
            .Distinct().Order()];
    }
}

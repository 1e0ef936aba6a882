using System.Text.Json;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Web.Preferences;

/// <summary>What the Create page remembers for a person between visits.</summary>
public sealed record CreateSettings
{
    /// <summary>The model id.</summary>
    public string? Model { get; init; }

    /// <summary>The prompt as last submitted.</summary>
    public string Prompt { get; init; } = "";

    /// <summary>The negative prompt as last submitted.</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>The sampler.</summary>
    public SchedulerKind? Scheduler { get; init; }

    /// <summary>Denoising steps.</summary>
    public int? Steps { get; init; }

    /// <summary>Guidance scale.</summary>
    public double? Guidance { get; init; }

    /// <summary>Width.</summary>
    public int? Width { get; init; }

    /// <summary>Height.</summary>
    public int? Height { get; init; }

    /// <summary>The seed, kept when <see cref="SeedLocked"/>.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Keep the same seed for every generation instead of a new random one.</summary>
    public bool SeedLocked { get; init; }

    /// <summary>Images per job.</summary>
    public int? BatchSize { get; init; }

    /// <summary>The gallery last chosen under "Save to"; null for the person's own images only.</summary>
    public Guid? SaveTo { get; init; }

    /// <summary>The style last chosen; null for none. A style deleted since (or no longer shared) is dropped on the next visit.</summary>
    public Guid? StyleId { get; init; }

    /// <summary>Whether "Hires fix" was on.</summary>
    public bool HiresFix { get; init; }

    /// <summary>Hires fix: "Upscale by".</summary>
    public double? HiresScale { get; init; }

    /// <summary>Hires fix: "Denoising strength".</summary>
    public double? HiresStrength { get; init; }

    /// <summary>Hires fix: the upscaler's id; empty for Lanczos.</summary>
    public string? HiresUpscaler { get; init; }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The JSON stored with the account.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads stored JSON; unreadable or missing JSON gives the defaults.</summary>
    public static CreateSettings FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new CreateSettings();
        }
        try
        {
            return JsonSerializer.Deserialize<CreateSettings>(json, Json) ?? new CreateSettings();
        }
        catch (JsonException)
        {
            return new CreateSettings();
        }
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace T2IStudio.Generation.Schedulers;

/// <summary>What the UNet predicts.</summary>
public enum PredictionType
{
    /// <summary>The added noise (SD 1.x, SD 2.x base).</summary>
    Epsilon,

    /// <summary>Velocity <c>v = αε − σx₀</c> (SD 2.x 768, some Turbo exports).</summary>
    VPrediction,
}

/// <summary>How inference timesteps are placed over the training timesteps (diffusers' <c>timestep_spacing</c>).</summary>
public enum TimestepSpacing
{
    /// <summary>Evenly from 0 to N−1, rounded.</summary>
    Linspace,

    /// <summary>Multiples of N / steps from 0, plus <c>steps_offset</c> (SD 1.x default).</summary>
    Leading,

    /// <summary>Multiples of N / steps down from N, minus 1 (starts at the noisiest timestep).</summary>
    Trailing,
}

/// <summary>A model's <c>scheduler/scheduler_config.json</c>: the noise schedule every scheduler derives from.</summary>
public sealed record SchedulerConfig
{
    /// <summary>Training timesteps N.</summary>
    public int NumTrainTimesteps { get; init; } = 1000;

    /// <summary>First β.</summary>
    public double BetaStart { get; init; } = 0.00085;

    /// <summary>Last β.</summary>
    public double BetaEnd { get; init; } = 0.012;

    /// <summary><c>scaled_linear</c> (SD) or <c>linear</c>.</summary>
    public string BetaSchedule { get; init; } = "scaled_linear";

    /// <summary>What the UNet predicts.</summary>
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    /// <summary>How inference timesteps are spaced.</summary>
    public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;

    /// <summary>Added to <c>leading</c> timesteps (1 for SD 1.x).</summary>
    public int StepsOffset { get; init; }

    /// <summary>DDIM/PNDM/LCM: ᾱ before the first timestep is 1 (else ᾱ₀).</summary>
    public bool SetAlphaToOne { get; init; }

    /// <summary>LCM: the teacher's step count the consistency timesteps are drawn from.</summary>
    public int OriginalInferenceSteps { get; init; } = 50;

    /// <summary>DPM++: use Karras sigmas when the caller does not say.</summary>
    public bool UseKarrasSigmas { get; init; }

    /// <summary>The SD 1.x defaults.</summary>
    public static SchedulerConfig StableDiffusion1 { get; } = new() { StepsOffset = 1 };

    /// <summary>Reads a diffusers <c>scheduler_config.json</c>; absent keys keep diffusers' defaults.</summary>
    public static SchedulerConfig FromJson(string json)
    {
        var raw = JsonSerializer.Deserialize<RawConfig>(json) ?? new RawConfig();
        if (raw.TrainedBetas is { ValueKind: JsonValueKind.Array })
        {
            throw new NotSupportedException("scheduler_config.json sets trained_betas; only beta_start/beta_end schedules are supported.");
        }
        return new SchedulerConfig
        {
            NumTrainTimesteps = raw.NumTrainTimesteps ?? 1000,
            BetaStart = raw.BetaStart ?? 0.0001,
            BetaEnd = raw.BetaEnd ?? 0.02,
            BetaSchedule = raw.BetaSchedule ?? "linear",
            PredictionType = raw.PredictionType switch
            {
                null or "epsilon" => PredictionType.Epsilon,
                "v_prediction" => PredictionType.VPrediction,
                var other => throw new NotSupportedException($"prediction_type '{other}' is not supported (epsilon or v_prediction)."),
            },
            TimestepSpacing = raw.TimestepSpacing switch
            {
                null or "leading" => TimestepSpacing.Leading,
                "linspace" => TimestepSpacing.Linspace,
                "trailing" => TimestepSpacing.Trailing,
                var other => throw new NotSupportedException($"timestep_spacing '{other}' is not supported."),
            },
            StepsOffset = raw.StepsOffset ?? 0,
            SetAlphaToOne = raw.SetAlphaToOne ?? false,
            OriginalInferenceSteps = raw.OriginalInferenceSteps ?? 50,
            UseKarrasSigmas = raw.UseKarrasSigmas ?? false,
        };
    }

    private sealed class RawConfig
    {
        [JsonPropertyName("num_train_timesteps")] public int? NumTrainTimesteps { get; set; }
        [JsonPropertyName("beta_start")] public double? BetaStart { get; set; }
        [JsonPropertyName("beta_end")] public double? BetaEnd { get; set; }
        [JsonPropertyName("beta_schedule")] public string? BetaSchedule { get; set; }
        [JsonPropertyName("prediction_type")] public string? PredictionType { get; set; }
        [JsonPropertyName("timestep_spacing")] public string? TimestepSpacing { get; set; }
        [JsonPropertyName("steps_offset")] public int? StepsOffset { get; set; }
        [JsonPropertyName("set_alpha_to_one")] public bool? SetAlphaToOne { get; set; }
        [JsonPropertyName("original_inference_steps")] public int? OriginalInferenceSteps { get; set; }
        [JsonPropertyName("use_karras_sigmas")] public bool? UseKarrasSigmas { get; set; }
        [JsonPropertyName("trained_betas")] public JsonElement? TrainedBetas { get; set; }
    }
}

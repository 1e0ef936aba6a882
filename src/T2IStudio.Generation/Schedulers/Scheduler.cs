using T2IStudio.Generation.Noise;

namespace T2IStudio.Generation.Schedulers;

/// <summary>
/// A diffusion sampler over one noise schedule, ported from diffusers' schedulers. Call
/// <see cref="SetTimesteps"/> before each generation (it resets multistep state); then for each
/// step index scale the UNet input by <see cref="ModelInputScale"/> and feed its output to <see cref="Step"/>.
/// </summary>
public abstract class Scheduler
{
    /// <summary>Builds the β/ᾱ schedule from <paramref name="config"/>.</summary>
    protected Scheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        var n = config.NumTrainTimesteps;
        var betas = new double[n];
        for (var i = 0; i < n; i++)
        {
            betas[i] = config.BetaSchedule switch
            {
                "scaled_linear" => Square(Lerp(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), i, n)),
                "linear" => Lerp(config.BetaStart, config.BetaEnd, i, n),
                var other => throw new NotSupportedException($"beta_schedule '{other}' is not supported (scaled_linear or linear)."),
            };
        }
        AlphasCumprod = new double[n];
        var product = 1.0;
        for (var i = 0; i < n; i++)
        {
            product *= 1 - betas[i];
            AlphasCumprod[i] = product;
        }
        FinalAlphaCumprod = config.SetAlphaToOne ? 1.0 : AlphasCumprod[0];
    }

    /// <summary>The configuration the schedule came from.</summary>
    public SchedulerConfig Config { get; }

    /// <summary>ᾱₜ for each training timestep.</summary>
    public IReadOnlyList<double> AlphasCumprodTable => AlphasCumprod;

    /// <summary>The UNet timesteps of this run, in order (noisiest first).</summary>
    public IReadOnlyList<double> Timesteps { get; protected set; } = [];

    /// <summary>The standard deviation of the initial noise: multiply unit Gaussian noise by it.</summary>
    public virtual double InitNoiseSigma => 1.0;

    /// <summary>The scheduler's display name (A1111's sampler names, which tools read from PNG metadata).</summary>
    public abstract string Name { get; }

    /// <summary>ᾱ per training timestep.</summary>
    protected double[] AlphasCumprod { get; }

    /// <summary>ᾱ "before" timestep 0.</summary>
    protected double FinalAlphaCumprod { get; }

    /// <summary>Places <paramref name="steps"/> inference timesteps and resets any multistep state.</summary>
    public abstract void SetTimesteps(int steps);

    /// <summary>What to multiply the latents by before the UNet call at <paramref name="stepIndex"/>.</summary>
    public virtual double ModelInputScale(int stepIndex) => 1.0;

    /// <summary>Advances <paramref name="sample"/> in place from step <paramref name="stepIndex"/> to the next.</summary>
    /// <param name="modelOutput">The (guided) UNet output for this step.</param>
    /// <param name="stepIndex">Index into <see cref="Timesteps"/>.</param>
    /// <param name="sample">The latents, replaced by the less noisy latents.</param>
    /// <param name="noise">Fresh noise for ancestral and consistency samplers; others ignore it.</param>
    public abstract void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, GaussianNoise noise);

    /// <summary>
    /// Step <paramref name="stepIndex"/> as linear combinations (<see cref="LinearStep"/>), for running on the
    /// device that holds the latents. The same maths as <see cref="Step"/>, with every per-step number fixed
    /// on the host; a pure function of the indices, so it keeps no state of its own.
    /// </summary>
    /// <param name="stepIndex">Index into <see cref="Timesteps"/>.</param>
    /// <param name="firstStepIndex">The run's first step (image-to-image starts later): multistep samplers start their history there.</param>
    public abstract LinearStep PlanStep(int stepIndex, int firstStepIndex);

    /// <summary>The x₀ estimate as terms of the sample and the model output, in ᾱ terms (DDIM, LCM).</summary>
    private protected Terms OriginalTerms(double alphaProd) => OriginalTerms(Math.Sqrt(alphaProd), Math.Sqrt(1 - alphaProd));

    /// <summary>The x₀ estimate from √ᾱ and √(1−ᾱ) (DPM++ has them as α and σ): (x − √(1−ᾱ)·ε)/√ᾱ, or √ᾱ·x − √(1−ᾱ)·v.</summary>
    private protected Terms OriginalTerms(double sqrtAlpha, double sqrtBeta) => Config.PredictionType == PredictionType.Epsilon
        ? Terms.Of(StepOperand.Sample, 1 / sqrtAlpha).Add(StepOperand.ModelOutput, -sqrtBeta / sqrtAlpha)
        : Terms.Of(StepOperand.Sample, sqrtAlpha).Add(StepOperand.ModelOutput, -sqrtBeta);

    /// <summary>
    /// Noises clean latents to the level of step <paramref name="stepIndex"/> (image-to-image and
    /// inpainting): <paramref name="result"/> = a·original + b·noise, in the scheduler's own parameterisation.
    /// </summary>
    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> result)
    {
        var (a, b) = NoiseScales(stepIndex);
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (float)(a * original[i] + b * noise[i]);
        }
    }

    /// <summary>How clean latents and unit noise combine at <paramref name="stepIndex"/> (<see cref="AddNoise"/>'s a and b).</summary>
    public (double OriginalScale, double NoiseScale) NoiseScales(int stepIndex) => NoiseCoefficients(stepIndex);

    /// <summary>How clean latents and unit noise combine at <paramref name="stepIndex"/>.</summary>
    protected abstract (double OriginalScale, double NoiseScale) NoiseCoefficients(int stepIndex);

    /// <summary>How many leading timesteps to skip for an image-to-image <paramref name="strength"/> (diffusers' rule).</summary>
    public static int StartIndexForStrength(int steps, double strength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(strength, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(strength, 1);
        var initTimestep = Math.Min((int)(steps * strength), steps);
        return Math.Max(steps - initTimestep, 0);
    }

    /// <summary>Integer training timesteps for <paramref name="steps"/> under the configured spacing (DDIM, PNDM).</summary>
    protected int[] DiscreteTimesteps(int steps)
    {
        ValidateSteps(steps);
        var n = Config.NumTrainTimesteps;
        return Config.TimestepSpacing switch
        {
            TimestepSpacing.Linspace => Enumerable.Range(0, steps).Select(i => (int)Math.Round(Linspace(0, n - 1, steps, i), MidpointRounding.ToEven)).Reverse().ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, steps).Select(i => i * (n / steps) + Config.StepsOffset).Reverse().ToArray(),
            _ => Trailing(n, steps).Select(t => (int)t).ToArray(),
        };
    }

    /// <summary>Fractional timesteps (Euler family: linspace is not rounded).</summary>
    protected double[] ContinuousTimesteps(int steps)
    {
        ValidateSteps(steps);
        var n = Config.NumTrainTimesteps;
        return Config.TimestepSpacing switch
        {
            TimestepSpacing.Linspace => Enumerable.Range(0, steps).Select(i => Linspace(0, n - 1, steps, i)).Reverse().ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, steps).Select(i => (double)(i * (n / steps) + Config.StepsOffset)).Reverse().ToArray(),
            _ => Trailing(n, steps),
        };
    }

    /// <summary>numpy's <c>round(arange(N, 0, -N/steps)) - 1</c>.</summary>
    private static double[] Trailing(int n, int steps)
    {
        var ratio = (double)n / steps;
        var values = new List<double>();
        for (var i = 0; n - i * ratio > 0; i++)
        {
            values.Add(Math.Round(n - i * ratio, MidpointRounding.ToEven) - 1);
        }
        return values.ToArray();
    }

    /// <summary>σₜ = √((1−ᾱₜ)/ᾱₜ) for every training timestep.</summary>
    protected double[] TrainingSigmas() => AlphasCumprod.Select(a => Math.Sqrt((1 - a) / a)).ToArray();

    /// <summary>ᾱ at an integer timestep, or the final ᾱ before timestep 0.</summary>
    protected double AlphaCumprodAt(int timestep) => timestep >= 0 ? AlphasCumprod[timestep] : FinalAlphaCumprod;

    /// <summary>The x₀ estimate from a model output in ᾱ terms (DDIM, LCM).</summary>
    protected double PredictOriginal(double modelOutput, double sample, double alphaProd)
    {
        var beta = 1 - alphaProd;
        return Config.PredictionType == PredictionType.Epsilon
            ? (sample - Math.Sqrt(beta) * modelOutput) / Math.Sqrt(alphaProd)
            : Math.Sqrt(alphaProd) * sample - Math.Sqrt(beta) * modelOutput;
    }

    /// <summary>Piecewise-linear interpolation of <paramref name="table"/> at fractional index <paramref name="x"/> (numpy interp).</summary>
    protected static double Interpolate(double[] table, double x)
    {
        if (x <= 0)
        {
            return table[0];
        }
        if (x >= table.Length - 1)
        {
            return table[^1];
        }
        var low = (int)Math.Floor(x);
        var w = x - low;
        return table[low] + w * (table[low + 1] - table[low]);
    }

    private void ValidateSteps(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(steps, Config.NumTrainTimesteps);
    }

    private static double Linspace(double start, double stop, int count, int i) =>
        count == 1 ? start : start + (stop - start) * i / (count - 1);

    private static double Lerp(double start, double end, int i, int n) => start + (end - start) * i / (n - 1);

    private static double Square(double x) => x * x;
}

using T2IStudio.Generation.Noise;

namespace T2IStudio.Generation.Schedulers;

/// <summary>
/// Latent consistency sampling, as diffusers' <c>LCMScheduler</c>: timesteps drawn from the teacher's
/// <c>original_inference_steps</c> grid, consistency boundary scalings (σ_data 0.5, scale 10), and
/// fresh noise between steps.
/// </summary>
public sealed class LcmScheduler(SchedulerConfig config) : Scheduler(config)
{
    /// <inheritdoc />
    public override string Name => "LCM";

    /// <inheritdoc />
    public override void SetTimesteps(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var original = Config.OriginalInferenceSteps;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(steps, original);
        var k = Config.NumTrainTimesteps / original;
        var grid = Enumerable.Range(1, original).Select(i => i * k - 1).Reverse().ToArray();
        Timesteps = Enumerable.Range(0, steps).Select(i => (double)grid[(int)Math.Floor((double)i * grid.Length / steps)]).ToArray();
    }

    /// <inheritdoc />
    public override void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, GaussianNoise noise)
    {
        ArgumentNullException.ThrowIfNull(noise);
        var timestep = (int)Timesteps[stepIndex];
        var last = stepIndex == Timesteps.Count - 1;
        var prevTimestep = last ? timestep : (int)Timesteps[stepIndex + 1];
        var alpha = AlphaCumprodAt(timestep);
        var alphaPrev = AlphaCumprodAt(prevTimestep);
        var (cSkip, cOut) = BoundaryScalings(timestep);
        float[]? fresh = null;
        if (!last)
        {
            fresh = new float[sample.Length];
            noise.Fill(fresh);
        }
        for (var i = 0; i < sample.Length; i++)
        {
            var x0 = PredictOriginal(modelOutput[i], sample[i], alpha);
            var denoised = cOut * x0 + cSkip * sample[i];
            sample[i] = (float)(fresh is null ? denoised : Math.Sqrt(alphaPrev) * denoised + Math.Sqrt(1 - alphaPrev) * fresh[i]);
        }
    }

    /// <inheritdoc />
    public override LinearStep PlanStep(int stepIndex, int firstStepIndex)
    {
        var timestep = (int)Timesteps[stepIndex];
        var last = stepIndex == Timesteps.Count - 1;
        var alpha = AlphaCumprodAt(timestep);
        var (cSkip, cOut) = BoundaryScalings(timestep);
        var denoised = OriginalTerms(alpha).Scaled(cOut).Add(StepOperand.Sample, cSkip);
        if (last)
        {
            return new LinearStep(denoised.ToList(), []);
        }
        var alphaPrev = AlphaCumprodAt((int)Timesteps[stepIndex + 1]);
        return new LinearStep(denoised.Scaled(Math.Sqrt(alphaPrev)).Add(StepOperand.Noise, Math.Sqrt(1 - alphaPrev)).ToList(), []);
    }

    /// <summary>c_skip and c_out of the consistency parameterisation at <paramref name="timestep"/>.</summary>
    public static (double Skip, double Out) BoundaryScalings(int timestep)
    {
        const double sigmaData = 0.5;
        var scaled = timestep * 10.0;
        var skip = sigmaData * sigmaData / (scaled * scaled + sigmaData * sigmaData);
        var @out = scaled / Math.Sqrt(scaled * scaled + sigmaData * sigmaData);
        return (skip, @out);
    }

    /// <inheritdoc />
    protected override (double, double) NoiseCoefficients(int stepIndex)
    {
        var a = AlphasCumprod[(int)Timesteps[stepIndex]];
        return (Math.Sqrt(a), Math.Sqrt(1 - a));
    }
}

using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Numerics;

namespace T2IStudio.Generation.Schedulers;

/// <summary>
/// Euler (Karras et al. Algorithm 2 without churn) and Euler ancestral, as diffusers'
/// <c>EulerDiscreteScheduler</c> and <c>EulerAncestralDiscreteScheduler</c>: the sampler works in
/// σ-space, the UNet input is scaled by 1/√(σ²+1).
/// </summary>
public sealed class EulerScheduler(SchedulerConfig config, bool ancestral = false) : Scheduler(config)
{
    private double[] _sigmas = [];

    /// <summary>True for Euler ancestral (fresh noise each step).</summary>
    public bool Ancestral { get; } = ancestral;

    /// <inheritdoc />
    public override string Name => Ancestral ? "Euler a" : "Euler";

    /// <summary>σ per step, with a final 0.</summary>
    public IReadOnlyList<double> Sigmas => _sigmas;

    /// <inheritdoc />
    public override double InitNoiseSigma
    {
        get
        {
            var max = _sigmas.Max();
            return Config.TimestepSpacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing ? max : Math.Sqrt(max * max + 1);
        }
    }

    /// <inheritdoc />
    public override void SetTimesteps(int steps)
    {
        var timesteps = ContinuousTimesteps(steps);
        var table = TrainingSigmas();
        _sigmas = [.. timesteps.Select(t => Interpolate(table, t)), 0.0];
        Timesteps = timesteps;
    }

    /// <inheritdoc />
    public override double ModelInputScale(int stepIndex) => 1 / Math.Sqrt(_sigmas[stepIndex] * _sigmas[stepIndex] + 1);

    /// <inheritdoc />
    public override void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, GaussianNoise noise)
    {
        ArgumentNullException.ThrowIfNull(noise);
        var (sigma, sigmaUp, dt) = StepSizes(stepIndex);
        float[]? fresh = null;
        if (Ancestral && sigmaUp > 0)
        {
            fresh = new float[sample.Length];
            noise.Fill(fresh);
        }
        (double, double)? vPrediction = Config.PredictionType == PredictionType.Epsilon
            ? null
            : (-sigma / Math.Sqrt(sigma * sigma + 1), sigma * sigma + 1);
        LatentMath.EulerStep(modelOutput, sample, sigma, dt, vPrediction, fresh, sigmaUp);
    }

    /// <inheritdoc />
    public override LinearStep PlanStep(int stepIndex, int firstStepIndex)
    {
        var (sigma, sigmaUp, dt) = StepSizes(stepIndex);
        // x' = x + (x − x₀)/σ · dt (+ σ_up · noise)
        var x0 = Config.PredictionType == PredictionType.Epsilon
            ? Terms.Of(StepOperand.Sample).Add(StepOperand.ModelOutput, -sigma)
            : Terms.Of(StepOperand.ModelOutput, -sigma / Math.Sqrt(sigma * sigma + 1)).Add(StepOperand.Sample, 1 / (sigma * sigma + 1));
        var next = Terms.Of(StepOperand.Sample, 1 + dt / sigma).Add(x0, -dt / sigma);
        if (Ancestral && sigmaUp > 0)
        {
            next.Add(StepOperand.Noise, sigmaUp);
        }
        return new LinearStep(next.ToList(), []);
    }

    private (double Sigma, double SigmaUp, double Dt) StepSizes(int stepIndex)
    {
        var sigma = _sigmas[stepIndex];
        var sigmaNext = _sigmas[stepIndex + 1];
        double sigmaUp = 0, target = sigmaNext;
        if (Ancestral)
        {
            sigmaUp = Math.Sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma));
            target = Math.Sqrt(sigmaNext * sigmaNext - sigmaUp * sigmaUp);
        }
        return (sigma, sigmaUp, target - sigma);
    }

    /// <inheritdoc />
    protected override (double, double) NoiseCoefficients(int stepIndex) => (1.0, _sigmas[stepIndex]);
}

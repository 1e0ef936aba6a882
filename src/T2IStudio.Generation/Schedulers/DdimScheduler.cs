using T2IStudio.Generation.Noise;

namespace T2IStudio.Generation.Schedulers;

/// <summary>DDIM with η = 0 (deterministic), as diffusers' <c>DDIMScheduler</c>.</summary>
public sealed class DdimScheduler(SchedulerConfig config) : Scheduler(config)
{
    private int _stepRatio;

    /// <inheritdoc />
    public override string Name => "DDIM";

    /// <inheritdoc />
    public override void SetTimesteps(int steps)
    {
        Timesteps = DiscreteTimesteps(steps).Select(t => (double)t).ToArray();
        _stepRatio = Config.NumTrainTimesteps / steps;
    }

    /// <inheritdoc />
    public override void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, GaussianNoise noise)
    {
        var t = (int)Timesteps[stepIndex];
        var alphaProd = AlphaCumprodAt(t);
        var alphaPrev = AlphaCumprodAt(t - _stepRatio);
        var beta = 1 - alphaProd;
        for (var i = 0; i < sample.Length; i++)
        {
            double x = sample[i], m = modelOutput[i];
            double x0, eps;
            if (Config.PredictionType == PredictionType.Epsilon)
            {
                x0 = (x - Math.Sqrt(beta) * m) / Math.Sqrt(alphaProd);
                eps = m;
            }
            else
            {
                x0 = Math.Sqrt(alphaProd) * x - Math.Sqrt(beta) * m;
                eps = Math.Sqrt(alphaProd) * m + Math.Sqrt(beta) * x;
            }
            sample[i] = (float)(Math.Sqrt(alphaPrev) * x0 + Math.Sqrt(1 - alphaPrev) * eps);
        }
    }

    /// <inheritdoc />
    public override LinearStep PlanStep(int stepIndex, int firstStepIndex)
    {
        var t = (int)Timesteps[stepIndex];
        var alphaProd = AlphaCumprodAt(t);
        var alphaPrev = AlphaCumprodAt(t - _stepRatio);
        var beta = 1 - alphaProd;
        var eps = Config.PredictionType == PredictionType.Epsilon
            ? Terms.Of(StepOperand.ModelOutput)
            : Terms.Of(StepOperand.ModelOutput, Math.Sqrt(alphaProd)).Add(StepOperand.Sample, Math.Sqrt(beta));
        var next = OriginalTerms(alphaProd).Scaled(Math.Sqrt(alphaPrev)).Add(eps, Math.Sqrt(1 - alphaPrev));
        return new LinearStep(next.ToList(), []);
    }

    /// <inheritdoc />
    protected override (double, double) NoiseCoefficients(int stepIndex)
    {
        var a = AlphasCumprod[(int)Timesteps[stepIndex]];
        return (Math.Sqrt(a), Math.Sqrt(1 - a));
    }
}

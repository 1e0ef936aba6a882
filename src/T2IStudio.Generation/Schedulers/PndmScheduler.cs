using T2IStudio.Generation.Noise;

namespace T2IStudio.Generation.Schedulers;

/// <summary>
/// PLMS (pseudo linear multistep), as diffusers' <c>PNDMScheduler</c> with <c>skip_prk_steps</c>: the
/// second timestep repeats, so a run of n steps calls the UNet n + 1 times.
/// </summary>
public sealed class PndmScheduler(SchedulerConfig config) : Scheduler(config)
{
    private readonly List<float[]> _ets = [];
    private float[]? _firstSample;
    private int _counter;
    private int _stepRatio;

    /// <inheritdoc />
    public override string Name => "PLMS";

    /// <inheritdoc />
    public override void SetTimesteps(int steps)
    {
        var ascending = DiscreteTimesteps(steps).Reverse().ToArray();
        // [t0, …, t(n-2)] + [t(n-2)] + [t(n-1)], reversed.
        int[] plms = [.. ascending[..^1], .. ascending.Length >= 2 ? ascending[^2..^1] : [], ascending[^1]];
        Array.Reverse(plms);
        Timesteps = plms.Select(t => (double)t).ToArray();
        _stepRatio = Config.NumTrainTimesteps / steps;
        _ets.Clear();
        _firstSample = null;
        _counter = 0;
    }

    /// <inheritdoc />
    public override void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, GaussianNoise noise)
    {
        var timestep = (int)Timesteps[stepIndex];
        var prevTimestep = timestep - _stepRatio;
        if (_counter != 1)
        {
            if (_ets.Count > 3)
            {
                _ets.RemoveAt(0);
            }
            _ets.Add(modelOutput.ToArray());
        }
        else
        {
            prevTimestep = timestep;
            timestep += _stepRatio;
        }

        var output = new float[modelOutput.Length];
        if (_ets.Count == 1 && _counter == 0)
        {
            modelOutput.CopyTo(output);
            _firstSample = sample.ToArray();
        }
        else if (_ets.Count == 1 && _counter == 1)
        {
            for (var i = 0; i < output.Length; i++)
            {
                output[i] = (modelOutput[i] + _ets[^1][i]) / 2;
            }
            _firstSample!.CopyTo(sample);
            _firstSample = null;
        }
        else
        {
            Combine(output);
        }

        PreviousSample(sample, timestep, prevTimestep, output);
        _counter++;
    }

    /// <inheritdoc />
    /// <remarks>Slots 0–2 hold the last model outputs (newest first), slot 3 the first step's sample.</remarks>
    public override LinearStep PlanStep(int stepIndex, int firstStepIndex)
    {
        var counter = stepIndex - firstStepIndex;
        var timestep = (int)Timesteps[stepIndex];
        const StepOperand output = StepOperand.ModelOutput;
        switch (counter)
        {
            case 0:
                return new LinearStep(
                    Previous(Terms.Of(output), StepOperand.Sample, timestep, timestep - _stepRatio).ToList(),
                    [new SlotUpdate(0, Terms.Of(output).ToList()), new SlotUpdate(3, Terms.Of(StepOperand.Sample).ToList())]);
            case 1:
                // The repeated timestep: average with the first output and restart from the first sample.
                var mean = Terms.Of(output, 0.5).Add(StepOperand.Slot0, 0.5);
                return new LinearStep(Previous(mean, StepOperand.Slot3, timestep + _stepRatio, timestep).ToList(), []);
            default:
                var combined = Math.Min(counter, 4) switch
                {
                    2 => Terms.Of(output, 3.0 / 2).Add(StepOperand.Slot0, -1.0 / 2),
                    3 => Terms.Of(output, 23.0 / 12).Add(StepOperand.Slot0, -16.0 / 12).Add(StepOperand.Slot1, 5.0 / 12),
                    _ => Terms.Of(output, 55.0 / 24).Add(StepOperand.Slot0, -59.0 / 24).Add(StepOperand.Slot1, 37.0 / 24).Add(StepOperand.Slot2, -9.0 / 24),
                };
                // The history shifts by one: newest output into slot 0, each older one down a slot (as far as it is filled).
                SlotUpdate[] shift =
                [
                    new SlotUpdate(0, Terms.Of(output).ToList()),
                    new SlotUpdate(1, Terms.Of(StepOperand.Slot0).ToList()),
                    new SlotUpdate(2, Terms.Of(StepOperand.Slot1).ToList()),
                ];
                return new LinearStep(Previous(combined, StepOperand.Sample, timestep, timestep - _stepRatio).ToList(), shift[..Math.Min(counter, 3)]);
        }
    }

    // PreviousSample in terms: x' = √(ᾱ_prev/ᾱ)·x − (ᾱ_prev − ᾱ)·ε / (ᾱ·√(1−ᾱ_prev) + √(ᾱ(1−ᾱ)ᾱ_prev)).
    private Terms Previous(Terms modelOutput, StepOperand sample, int timestep, int prevTimestep)
    {
        var alpha = AlphaCumprodAt(timestep);
        var alphaPrev = AlphaCumprodAt(prevTimestep);
        var beta = 1 - alpha;
        var denominator = alpha * Math.Sqrt(1 - alphaPrev) + Math.Sqrt(alpha * beta * alphaPrev);
        var eps = Config.PredictionType == PredictionType.VPrediction
            ? modelOutput.Scaled(Math.Sqrt(alpha)).Add(sample, Math.Sqrt(beta))
            : modelOutput;
        return Terms.Of(sample, Math.Sqrt(alphaPrev / alpha)).Add(eps, -(alphaPrev - alpha) / denominator);
    }

    /// <inheritdoc />
    protected override (double, double) NoiseCoefficients(int stepIndex)
    {
        var a = AlphasCumprod[(int)Timesteps[stepIndex]];
        return (Math.Sqrt(a), Math.Sqrt(1 - a));
    }

    private void Combine(float[] output)
    {
        var e = _ets;
        for (var i = 0; i < output.Length; i++)
        {
            output[i] = e.Count switch
            {
                2 => (3 * e[^1][i] - e[^2][i]) / 2,
                3 => (23 * e[^1][i] - 16 * e[^2][i] + 5 * e[^3][i]) / 12,
                _ => (55 * e[^1][i] - 59 * e[^2][i] + 37 * e[^3][i] - 9 * e[^4][i]) / 24,
            };
        }
    }

    private void PreviousSample(Span<float> sample, int timestep, int prevTimestep, float[] modelOutput)
    {
        var alpha = AlphaCumprodAt(timestep);
        var alphaPrev = AlphaCumprodAt(prevTimestep);
        var beta = 1 - alpha;
        var betaPrev = 1 - alphaPrev;
        var sampleCoeff = Math.Sqrt(alphaPrev / alpha);
        var denominator = alpha * Math.Sqrt(betaPrev) + Math.Sqrt(alpha * beta * alphaPrev);
        for (var i = 0; i < sample.Length; i++)
        {
            double m = modelOutput[i];
            if (Config.PredictionType == PredictionType.VPrediction)
            {
                m = Math.Sqrt(alpha) * m + Math.Sqrt(beta) * sample[i];
            }
            sample[i] = (float)(sampleCoeff * sample[i] - (alphaPrev - alpha) * m / denominator);
        }
    }
}

using T2IStudio.Generation.Noise;

namespace T2IStudio.Generation.Schedulers;

/// <summary>
/// DPM-Solver++(2M) with the midpoint second-order update, optionally on Karras sigmas, as diffusers'
/// <c>DPMSolverMultistepScheduler</c> (algorithm <c>dpmsolver++</c>, order 2, final σ = 0, so the last
/// step is first order).
/// </summary>
public sealed class DpmSolverMultistepScheduler(SchedulerConfig config, bool? karras = null) : Scheduler(config!)
{
    private double[] _sigmas = [];
    private float[]? _previousDenoised;

    /// <summary>True when the sigmas follow Karras et al.'s ρ = 7 schedule.</summary>
    public bool Karras { get; } = karras ?? config!.UseKarrasSigmas;

    /// <inheritdoc />
    public override string Name => Karras ? "DPM++ 2M Karras" : "DPM++ 2M";

    /// <summary>σ per step, with a final 0.</summary>
    public IReadOnlyList<double> Sigmas => _sigmas;

    /// <inheritdoc />
    public override void SetTimesteps(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var n = Config.NumTrainTimesteps;
        var table = TrainingSigmas();
        double[] timesteps = Config.TimestepSpacing switch
        {
            // One more point than steps, the last (t = 0 side) dropped: diffusers' rule for this scheduler.
            TimestepSpacing.Linspace => Enumerable.Range(0, steps + 1).Select(i => Math.Round((n - 1.0) * i / steps, MidpointRounding.ToEven)).Reverse().Take(steps).ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, steps + 1).Select(i => (double)(i * (n / (steps + 1)) + Config.StepsOffset)).Reverse().Take(steps).ToArray(),
            _ => ContinuousTimesteps(steps),
        };
        if (Karras)
        {
            var sigmaMin = table[0];
            var sigmaMax = table[^1];
            var karrasSigmas = KarrasSigmas(sigmaMin, sigmaMax, steps);
            var logTable = table.Select(s => Math.Log(s)).ToArray();
            Timesteps = karrasSigmas.Select(s => Math.Round(SigmaToTimestep(s, logTable), MidpointRounding.ToEven)).ToArray();
            _sigmas = [.. karrasSigmas, 0.0];
        }
        else
        {
            Timesteps = timesteps;
            _sigmas = [.. timesteps.Select(t => Interpolate(table, t)), 0.0];
        }
        _previousDenoised = null;
    }

    /// <inheritdoc />
    public override void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, GaussianNoise noise)
    {
        var sigma = _sigmas[stepIndex];
        var (alphaS, sigmaS) = AlphaSigma(sigma);
        var denoised = new float[sample.Length];
        for (var i = 0; i < sample.Length; i++)
        {
            denoised[i] = (float)(Config.PredictionType == PredictionType.Epsilon
                ? (sample[i] - sigmaS * modelOutput[i]) / alphaS
                : alphaS * sample[i] - sigmaS * modelOutput[i]);
        }

        var sigmaNext = _sigmas[stepIndex + 1];
        var lastStep = stepIndex == Timesteps.Count - 1;
        if (sigmaNext == 0)
        {
            // λ → ∞: the update lands on the denoised estimate itself.
            denoised.AsSpan().CopyTo(sample);
        }
        else
        {
            var (alphaT, sigmaT) = AlphaSigma(sigmaNext);
            var h = Lambda(alphaT, sigmaT) - Lambda(alphaS, sigmaS);
            var expm1 = Math.Exp(-h) - 1;
            if (_previousDenoised is null || lastStep)
            {
                for (var i = 0; i < sample.Length; i++)
                {
                    sample[i] = (float)(sigmaT / sigmaS * sample[i] - alphaT * expm1 * denoised[i]);
                }
            }
            else
            {
                var (alphaPrev, sigmaPrev) = AlphaSigma(_sigmas[stepIndex - 1]);
                var h0 = Lambda(alphaS, sigmaS) - Lambda(alphaPrev, sigmaPrev);
                var r0 = h0 / h;
                for (var i = 0; i < sample.Length; i++)
                {
                    var d1 = (denoised[i] - _previousDenoised[i]) / r0;
                    sample[i] = (float)(sigmaT / sigmaS * sample[i] - alphaT * expm1 * denoised[i] - 0.5 * alphaT * expm1 * d1);
                }
            }
        }
        _previousDenoised = denoised;
    }

    /// <inheritdoc />
    /// <remarks>Slot 0 holds the previous step's denoised estimate.</remarks>
    public override LinearStep PlanStep(int stepIndex, int firstStepIndex)
    {
        var (alphaS, sigmaS) = AlphaSigma(_sigmas[stepIndex]);
        var denoised = OriginalTerms(alphaS, sigmaS);
        var sigmaNext = _sigmas[stepIndex + 1];
        Terms next;
        if (sigmaNext == 0)
        {
            next = denoised.Scaled(1);
        }
        else
        {
            var (alphaT, sigmaT) = AlphaSigma(sigmaNext);
            var h = Lambda(alphaT, sigmaT) - Lambda(alphaS, sigmaS);
            var expm1 = Math.Exp(-h) - 1;
            next = Terms.Of(StepOperand.Sample, sigmaT / sigmaS).Add(denoised, -alphaT * expm1);
            if (stepIndex > firstStepIndex && stepIndex < Timesteps.Count - 1)
            {
                // − ½·α_t·(e^−h − 1)·(D − D_prev)/r₀
                var (alphaPrev, sigmaPrev) = AlphaSigma(_sigmas[stepIndex - 1]);
                var r0 = (Lambda(alphaS, sigmaS) - Lambda(alphaPrev, sigmaPrev)) / h;
                var k = -0.5 * alphaT * expm1 / r0;
                next.Add(denoised, k).Add(StepOperand.Slot0, -k);
            }
        }
        return new LinearStep(next.ToList(), [new SlotUpdate(0, denoised.ToList())]);
    }

    /// <inheritdoc />
    protected override (double, double) NoiseCoefficients(int stepIndex) => AlphaSigma(_sigmas[stepIndex]);

    /// <summary>Karras et al. (2022) eq. 5 with ρ = 7, from σ_max down to σ_min.</summary>
    public static double[] KarrasSigmas(double sigmaMin, double sigmaMax, int steps)
    {
        const double rho = 7.0;
        var minInv = Math.Pow(sigmaMin, 1 / rho);
        var maxInv = Math.Pow(sigmaMax, 1 / rho);
        return Enumerable.Range(0, steps)
            .Select(i => Math.Pow(maxInv + (steps == 1 ? 0 : (double)i / (steps - 1)) * (minInv - maxInv), rho))
            .ToArray();
    }

    /// <summary>The fractional training timestep whose σ is <paramref name="sigma"/> (log-linear interpolation).</summary>
    public static double SigmaToTimestep(double sigma, double[] logSigmas)
    {
        ArgumentNullException.ThrowIfNull(logSigmas);
        var logSigma = Math.Log(Math.Max(sigma, 1e-10));
        var low = 0;
        for (var i = 0; i < logSigmas.Length; i++)
        {
            if (logSigma - logSigmas[i] >= 0)
            {
                low = i;
            }
        }
        low = Math.Min(low, logSigmas.Length - 2);
        var w = Math.Clamp((logSigmas[low] - logSigma) / (logSigmas[low] - logSigmas[low + 1]), 0, 1);
        return (1 - w) * low + w * (low + 1);
    }

    private static (double Alpha, double Sigma) AlphaSigma(double sigma)
    {
        var alpha = 1 / Math.Sqrt(sigma * sigma + 1);
        return (alpha, sigma * alpha);
    }

    private static double Lambda(double alpha, double sigma) => Math.Log(alpha) - Math.Log(sigma);
}

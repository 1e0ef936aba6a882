namespace T2IStudio.Generation.Schedulers;

/// <summary>A tensor a <see cref="LinearStep"/> combines; every one has the latents' shape.</summary>
public enum StepOperand
{
    /// <summary>The latents before the step.</summary>
    Sample,

    /// <summary>The (guided) UNet output of this step.</summary>
    ModelOutput,

    /// <summary>Fresh unit noise, drawn from the step-noise generator only when the step uses it.</summary>
    Noise,

    /// <summary>History slot 0 (a multistep sampler's memory, kept between steps).</summary>
    Slot0,

    /// <summary>History slot 1.</summary>
    Slot1,

    /// <summary>History slot 2.</summary>
    Slot2,

    /// <summary>History slot 3.</summary>
    Slot3,
}

/// <summary>One term of a linear combination: <see cref="Coefficient"/> × <see cref="Operand"/>.</summary>
public readonly record struct StepTerm(StepOperand Operand, double Coefficient);

/// <summary>A new history slot value, computed (like the new latents) from the values before the step.</summary>
public sealed record SlotUpdate(int Slot, IReadOnlyList<StepTerm> Value);

/// <summary>
/// One sampler step written as linear combinations: new latents = Σ cᵢ·operandᵢ, and each updated history
/// slot likewise, all from the values before the step. Every sampler here is linear in the latents, the
/// model output, the noise and its history once its per-step numbers are fixed, so a step can run as a small
/// graph on the device that holds the latents (<see cref="Pipelines.ResidentLatents"/>) with only a few
/// scalars crossing from the host. <see cref="Scheduler.Step"/> stays the reference (and the CPU path, whose
/// bytes releases keep); tests hold the two to each other.
/// </summary>
public sealed record LinearStep(IReadOnlyList<StepTerm> Sample, IReadOnlyList<SlotUpdate> Slots)
{
    /// <summary>Number of history slots an operand can name.</summary>
    public const int SlotCount = 4;

    /// <summary>True when some combination reads fresh noise (the caller draws it, in <see cref="Scheduler.Step"/>'s order).</summary>
    public bool UsesNoise => AllTerms.Any(t => t.Operand == StepOperand.Noise);

    /// <summary>
    /// The step's structure without its numbers: which operands each combination reads. Steps with the same
    /// signature run on the same compiled graph, fed different coefficients.
    /// </summary>
    public string Signature =>
        string.Join(";", new[] { "x=" + Operands(Sample) }.Concat(Slots.Select(s => $"s{s.Slot}=" + Operands(s.Value))));

    /// <summary>The history slots some combination reads (each once).</summary>
    public IEnumerable<int> SlotsRead => AllTerms
        .Where(t => t.Operand >= StepOperand.Slot0)
        .Select(t => t.Operand - StepOperand.Slot0)
        .Distinct();

    /// <summary>Every coefficient in signature order (the new latents' terms, then each slot's).</summary>
    public IEnumerable<double> Coefficients => AllTerms.Select(t => t.Coefficient);

    private IEnumerable<StepTerm> AllTerms => Sample.Concat(Slots.SelectMany(s => s.Value));

    /// <summary>Applies the step on the host: <paramref name="sample"/> and <paramref name="slots"/> are replaced.</summary>
    /// <param name="modelOutput">The guided UNet output.</param>
    /// <param name="sample">The latents.</param>
    /// <param name="slots">History slots (<see cref="SlotCount"/> entries; null until first written).</param>
    /// <param name="noise">Fresh noise when <see cref="UsesNoise"/>.</param>
    public void Apply(ReadOnlySpan<float> modelOutput, Span<float> sample, float[]?[] slots, float[]? noise)
    {
        ArgumentNullException.ThrowIfNull(slots);
        var before = sample.ToArray();
        var output = modelOutput.ToArray();
        float[] Operand(StepOperand operand) => operand switch
        {
            StepOperand.Sample => before,
            StepOperand.ModelOutput => output,
            StepOperand.Noise => noise ?? throw new ArgumentNullException(nameof(noise), "This step reads noise."),
            _ => slots[operand - StepOperand.Slot0] ?? throw new InvalidOperationException($"{operand} is read before it is written."),
        };
        var updates = Slots.Select(s => (s.Slot, Values: Combine(s.Value, Operand, before.Length))).ToList();
        Combine(Sample, Operand, before.Length).CopyTo(sample);
        foreach (var (slot, values) in updates)
        {
            slots[slot] = values;
        }
    }

    private static float[] Combine(IReadOnlyList<StepTerm> terms, Func<StepOperand, float[]> operand, int length)
    {
        var result = new float[length];
        var sources = terms.Select(t => (Values: operand(t.Operand), t.Coefficient)).ToArray();
        for (var i = 0; i < length; i++)
        {
            var sum = 0.0;
            foreach (var (values, coefficient) in sources)
            {
                sum += coefficient * values[i];
            }
            result[i] = (float)sum;
        }
        return result;
    }

    private static string Operands(IReadOnlyList<StepTerm> terms) => string.Join("+", terms.Select(t => t.Operand));
}

/// <summary>Builds a linear combination term by term, merging repeated operands (for <see cref="Scheduler.PlanStep"/>).</summary>
internal sealed class Terms
{
    private readonly List<StepTerm> _terms = [];

    public static Terms Of(StepOperand operand, double coefficient = 1) => new Terms().Add(operand, coefficient);

    public Terms Add(StepOperand operand, double coefficient)
    {
        var i = _terms.FindIndex(t => t.Operand == operand);
        if (i >= 0)
        {
            _terms[i] = _terms[i] with { Coefficient = _terms[i].Coefficient + coefficient };
        }
        else
        {
            _terms.Add(new StepTerm(operand, coefficient));
        }
        return this;
    }

    public Terms Add(Terms other, double scale)
    {
        foreach (var term in other._terms)
        {
            Add(term.Operand, term.Coefficient * scale);
        }
        return this;
    }

    public Terms Scaled(double scale) => new Terms().Add(this, scale);

    public IReadOnlyList<StepTerm> ToList() => [.. _terms];
}

using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Tests.Schedulers;

/// <summary>
/// Every sampler's coefficient form (<see cref="Scheduler.PlanStep"/>, what the resident loop runs on the
/// device) against its reference <see cref="Scheduler.Step"/>, over whole runs: both prediction types,
/// every spacing, from the first step and from a later one (image-to-image).
/// </summary>
public sealed class LinearStepTests
{
    private const int Length = 64;

    public static TheoryData<SchedulerKind, PredictionType, TimestepSpacing, int> Cases()
    {
        var data = new TheoryData<SchedulerKind, PredictionType, TimestepSpacing, int>();
        foreach (var kind in Enum.GetValues<SchedulerKind>())
        {
            foreach (var prediction in Enum.GetValues<PredictionType>())
            {
                foreach (var spacing in Enum.GetValues<TimestepSpacing>())
                {
                    data.Add(kind, prediction, spacing, 0);
                }
                data.Add(kind, prediction, TimestepSpacing.Leading, 3);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_coefficient_form_follows_the_reference_step(SchedulerKind kind, PredictionType prediction, TimestepSpacing spacing, int first)
    {
        var config = SchedulerConfig.StableDiffusion1 with { PredictionType = prediction, TimestepSpacing = spacing, OriginalInferenceSteps = 50 };
        var reference = SchedulerFactory.Create(kind, config);
        var planned = SchedulerFactory.Create(kind, config);
        reference.SetTimesteps(12);
        planned.SetTimesteps(12);
        var rng = new Random(5);
        var start = Enumerable.Range(0, Length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] x = [.. start], y = [.. start];
        var slots = new float[]?[LinearStep.SlotCount];
        GaussianNoise noiseA = new(9), noiseB = new(9);
        for (var i = first; i < reference.Timesteps.Count; i++)
        {
            // A made-up model output that depends on the latents and the step, like a real one.
            var outputX = x.Select((v, j) => (float)(0.4 * v + 0.2 * Math.Sin(j + i))).ToArray();
            var outputY = y.Select((v, j) => (float)(0.4 * v + 0.2 * Math.Sin(j + i))).ToArray();
            reference.Step(outputX, i, x, noiseA);
            var plan = planned.PlanStep(i, first);
            float[]? fresh = null;
            if (plan.UsesNoise)
            {
                fresh = new float[Length];
                noiseB.Fill(fresh);
            }
            plan.Apply(outputY, y, slots, fresh);
            for (var j = 0; j < Length; j++)
            {
                Assert.True(Math.Abs(x[j] - y[j]) <= 1e-4 * (1 + Math.Abs(x[j])), $"{kind} step {i} [{j}]: reference {x[j]}, coefficient form {y[j]}");
            }
        }
        Assert.NotEqual(start, x); // the run moved the latents
    }

    [Fact]
    public void Steps_with_the_same_structure_share_a_signature_and_differ_in_coefficients()
    {
        var scheduler = new DpmSolverMultistepScheduler(SchedulerConfig.StableDiffusion1);
        scheduler.SetTimesteps(10);
        var first = scheduler.PlanStep(0, 0);
        var second = scheduler.PlanStep(1, 0);
        var third = scheduler.PlanStep(2, 0);
        var last = scheduler.PlanStep(9, 0);

        Assert.Equal("x=Sample+ModelOutput;s0=Sample+ModelOutput", first.Signature); // first order: no history yet
        Assert.Equal("x=Sample+ModelOutput+Slot0;s0=Sample+ModelOutput", second.Signature);
        Assert.Equal(second.Signature, third.Signature);
        Assert.NotEqual(second.Coefficients, third.Coefficients);
        Assert.False(last.UsesNoise);
        Assert.True(new EulerScheduler(SchedulerConfig.StableDiffusion1, ancestral: true) is var a && Planned(a).UsesNoise);
        Assert.False(Planned(new EulerScheduler(SchedulerConfig.StableDiffusion1)).UsesNoise);

        static LinearStep Planned(Scheduler s)
        {
            s.SetTimesteps(10);
            return s.PlanStep(0, 0);
        }
    }
}

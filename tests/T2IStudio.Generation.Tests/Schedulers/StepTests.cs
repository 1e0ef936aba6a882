using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Tests.Schedulers;

public sealed class StepTests
{
    private static readonly SchedulerConfig Sd1 = SchedulerConfig.StableDiffusion1 with { BetaSchedule = "scaled_linear", BetaStart = 0.00085, BetaEnd = 0.012 };
    private static readonly GaussianNoise Unused = new(0);

    [Fact]
    public void Ddim_step_applies_the_eta_zero_update()
    {
        var scheduler = new DdimScheduler(Sd1);
        scheduler.SetTimesteps(4); // 751 → 501
        float[] sample = [1f, 2f];
        float[] eps = [0.5f, -0.5f];
        scheduler.Step(eps, 0, sample, Unused);

        double a = SchedulerMath.AlphaCumprod(751), ap = SchedulerMath.AlphaCumprod(501);
        for (var i = 0; i < 2; i++)
        {
            var x0 = ((i == 0 ? 1.0 : 2.0) - Math.Sqrt(1 - a) * eps[i]) / Math.Sqrt(a);
            Assert.Equal(Math.Sqrt(ap) * x0 + Math.Sqrt(1 - ap) * eps[i], sample[i], 5);
        }
    }

    [Fact]
    public void Ddim_last_step_uses_alpha_zero_when_set_alpha_to_one_is_false()
    {
        var scheduler = new DdimScheduler(Sd1);
        scheduler.SetTimesteps(4);
        float[] sample = [0.3f];
        scheduler.Step([0.1f], 3, sample, Unused); // t = 1, previous = -249 → ᾱ₀
        double a = SchedulerMath.AlphaCumprod(1), ap = SchedulerMath.AlphaCumprod(0);
        var x0 = (0.3 - Math.Sqrt(1 - a) * 0.1) / Math.Sqrt(a);
        Assert.Equal(Math.Sqrt(ap) * x0 + Math.Sqrt(1 - ap) * 0.1, sample[0], 6);
    }

    [Fact]
    public void Ddim_v_prediction_recovers_the_clean_sample_from_its_velocity()
    {
        // With x = √ᾱ·x0 + √(1−ᾱ)·ε and v = √ᾱ·ε − √(1−ᾱ)·x0, one step lands on √ᾱ'·x0 + √(1−ᾱ')·ε.
        var scheduler = new DdimScheduler(Sd1 with { PredictionType = PredictionType.VPrediction });
        scheduler.SetTimesteps(4);
        double a = SchedulerMath.AlphaCumprod(751), ap = SchedulerMath.AlphaCumprod(501);
        double x0 = 0.7, e = -1.2;
        float[] sample = [(float)(Math.Sqrt(a) * x0 + Math.Sqrt(1 - a) * e)];
        float[] v = [(float)(Math.Sqrt(a) * e - Math.Sqrt(1 - a) * x0)];
        scheduler.Step(v, 0, sample, Unused);
        Assert.Equal(Math.Sqrt(ap) * x0 + Math.Sqrt(1 - ap) * e, sample[0], 5);
    }

    [Fact]
    public void Euler_step_moves_along_the_noise_by_the_sigma_difference()
    {
        // x0 = x − σε, so dx/dσ = ε and x' = x + ε(σ' − σ).
        var scheduler = new EulerScheduler(Sd1);
        scheduler.SetTimesteps(10);
        float[] sample = [1f, -2f];
        scheduler.Step([0.5f, 0.25f], 0, sample, Unused);
        var dSigma = scheduler.Sigmas[1] - scheduler.Sigmas[0];
        Assert.Equal(1 + 0.5 * dSigma, sample[0], 4);
        Assert.Equal(-2 + 0.25 * dSigma, sample[1], 4);
    }

    [Fact]
    public void Euler_ancestral_splits_the_step_into_a_deterministic_part_and_fresh_noise()
    {
        var scheduler = new EulerScheduler(Sd1, ancestral: true);
        scheduler.SetTimesteps(10);
        double s = scheduler.Sigmas[0], sNext = scheduler.Sigmas[1];
        var up = Math.Sqrt(sNext * sNext * (s * s - sNext * sNext) / (s * s));
        var down = Math.Sqrt(sNext * sNext - up * up);
        var expectedNoise = new GaussianNoise(7).NextGaussian();

        float[] sample = [1f];
        scheduler.Step([0.5f], 0, sample, new GaussianNoise(7));

        Assert.Equal(1 + 0.5 * (down - s) + (float)expectedNoise * up, sample[0], 4);
        Assert.Equal("Euler a", scheduler.Name);
    }

    [Fact]
    public void Dpm_first_step_is_first_order_and_second_uses_the_midpoint_correction()
    {
        var scheduler = new DpmSolverMultistepScheduler(Sd1);
        scheduler.SetTimesteps(5);
        var sig = scheduler.Sigmas;
        static (double A, double S) AlphaSigma(double sigma) => (1 / Math.Sqrt(sigma * sigma + 1), sigma / Math.Sqrt(sigma * sigma + 1));
        static double Lambda(double sigma) => Math.Log(AlphaSigma(sigma).A) - Math.Log(AlphaSigma(sigma).S);

        double x = 2.0, e0 = 0.4, e1 = -0.3;
        // Step 0: first order.
        var (a0, s0) = AlphaSigma(sig[0]);
        var d0 = (x - s0 * e0) / a0;
        var (a1, s1) = AlphaSigma(sig[1]);
        var h = Lambda(sig[1]) - Lambda(sig[0]);
        var x1 = s1 / s0 * x - a1 * (Math.Exp(-h) - 1) * d0;
        float[] sample = [(float)x];
        scheduler.Step([(float)e0], 0, sample, Unused);
        Assert.Equal(x1, sample[0], 4);

        // Step 1: second order with D1 = (d1 − d0)/r0.
        var d1 = (sample[0] - s1 * e1) / a1;
        var (a2, s2) = AlphaSigma(sig[2]);
        var h1 = Lambda(sig[2]) - Lambda(sig[1]);
        var r0 = (Lambda(sig[1]) - Lambda(sig[0])) / h1;
        var expected = s2 / s1 * sample[0] - a2 * (Math.Exp(-h1) - 1) * d1 - 0.5 * a2 * (Math.Exp(-h1) - 1) * (d1 - d0) / r0;
        scheduler.Step([(float)e1], 1, sample, Unused);
        Assert.Equal(expected, sample[0], 3);
    }

    [Fact]
    public void Dpm_last_step_lands_on_the_denoised_estimate()
    {
        var scheduler = new DpmSolverMultistepScheduler(Sd1, karras: true);
        scheduler.SetTimesteps(3);
        float[] sample = [0.8f];
        scheduler.Step([0.2f], 0, sample, Unused);
        scheduler.Step([0.2f], 1, sample, Unused);
        var before = sample[0];
        var sigma = scheduler.Sigmas[2];
        scheduler.Step([0.2f], 2, sample, Unused);
        var alpha = 1 / Math.Sqrt(sigma * sigma + 1);
        Assert.Equal((before - sigma * alpha * 0.2) / alpha, sample[0], 4);
    }

    [Fact]
    public void Plms_first_update_equals_ddim_and_the_repeated_timestep_restarts_from_the_first_sample()
    {
        var pndm = new PndmScheduler(Sd1);
        pndm.SetTimesteps(4);
        var ddim = new DdimScheduler(Sd1);
        ddim.SetTimesteps(4);
        float[] eps = [0.3f, -0.6f];

        float[] plms = [1f, 2f];
        float[] reference = [1f, 2f];
        pndm.Step(eps, 0, plms, Unused);
        ddim.Step(eps, 0, reference, Unused);
        Assert.Equal(reference[0], plms[0], 5); // two different formulas, the same update for ε models
        Assert.Equal(reference[1], plms[1], 5);

        var afterFirst = plms.ToArray();
        pndm.Step(eps, 1, plms, Unused); // t 501 again: restore x(751), average ε, redo 751 → 501
        Assert.Equal(afterFirst, plms);

        pndm.Step(eps, 2, plms, Unused); // (3ε − ε)/2 = ε: a DDIM step 501 → 251
        ddim.Step(eps, 1, reference, Unused);
        Assert.Equal(reference[0], plms[0], 5);
    }

    [Fact]
    public void Lcm_last_step_returns_the_boundary_scaled_estimate_and_earlier_steps_renoise()
    {
        var scheduler = new LcmScheduler(Sd1);
        scheduler.SetTimesteps(4);
        var (skip, @out) = LcmScheduler.BoundaryScalings(259);
        var a = SchedulerMath.AlphaCumprod(259);
        float[] sample = [0.5f];
        scheduler.Step([0.1f], 3, sample, Unused);
        var x0 = (0.5 - Math.Sqrt(1 - a) * 0.1) / Math.Sqrt(a);
        Assert.Equal(@out * x0 + skip * 0.5, sample[0], 5);

        var (skip0, out0) = LcmScheduler.BoundaryScalings(999);
        Assert.Equal(0.25 / (9990.0 * 9990 + 0.25), skip0, 15);
        Assert.Equal(9990 / Math.Sqrt(9990.0 * 9990 + 0.25), out0, 12);

        float[] first = [0.5f];
        scheduler.Step([0.1f], 0, first, new GaussianNoise(3));
        double a0 = SchedulerMath.AlphaCumprod(999), a1 = SchedulerMath.AlphaCumprod(759);
        var denoised = out0 * ((0.5 - Math.Sqrt(1 - a0) * 0.1) / Math.Sqrt(a0)) + skip0 * 0.5;
        var noise = (float)new GaussianNoise(3).NextGaussian();
        Assert.Equal(Math.Sqrt(a1) * denoised + Math.Sqrt(1 - a1) * noise, first[0], 4);
    }

    [Fact]
    public void Add_noise_uses_each_schedulers_parameterisation()
    {
        var ddim = new DdimScheduler(Sd1);
        ddim.SetTimesteps(4);
        float[] result = new float[1];
        ddim.AddNoise([2f], [1f], 1, result);
        var a = SchedulerMath.AlphaCumprod(501);
        Assert.Equal(Math.Sqrt(a) * 2 + Math.Sqrt(1 - a), result[0], 5);

        var euler = new EulerScheduler(Sd1);
        euler.SetTimesteps(4);
        euler.AddNoise([2f], [1f], 1, result);
        Assert.Equal(2 + euler.Sigmas[1], result[0], 4);
    }
}

public sealed class SchedulerNameTests
{
    [Theory]
    [InlineData(SchedulerKind.EulerAncestral)]
    [InlineData(SchedulerKind.Euler)]
    [InlineData(SchedulerKind.Ddim)]
    [InlineData(SchedulerKind.DpmPlusPlus2M)]
    [InlineData(SchedulerKind.DpmPlusPlus2MKarras)]
    [InlineData(SchedulerKind.Plms)]
    [InlineData(SchedulerKind.Lcm)]
    public void Display_names_match_each_scheduler_and_parse_back(SchedulerKind kind)
    {
        var name = SchedulerFactory.DisplayName(kind);
        Assert.Equal(SchedulerFactory.Create(kind, SchedulerConfig.StableDiffusion1).Name, name);
        Assert.True(SchedulerFactory.TryParse(name, out var parsed));
        Assert.Equal(kind, parsed);
    }
}

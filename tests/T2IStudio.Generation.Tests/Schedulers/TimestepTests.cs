using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Tests.Schedulers;

public sealed class TimestepTests
{
    private static SchedulerConfig Sd(TimestepSpacing spacing, int offset = 0) =>
        new() { BetaStart = 0.00085, BetaEnd = 0.012, BetaSchedule = "scaled_linear", TimestepSpacing = spacing, StepsOffset = offset };

    [Fact]
    public void Scaled_linear_schedule_matches_sd_known_sigma_range()
    {
        var scheduler = new DdimScheduler(Sd(TimestepSpacing.Leading, 1));
        Assert.Equal(0.99915, scheduler.AlphasCumprodTable[0], 12);
        Assert.Equal(SchedulerMath.AlphaCumprod(500), scheduler.AlphasCumprodTable[500], 12);
        // SD's well-known σ range: σ_max ≈ 14.6146 at t = 999, σ_min ≈ 0.0292 at t = 0.
        var sigmaMax = Math.Sqrt((1 - scheduler.AlphasCumprodTable[999]) / scheduler.AlphasCumprodTable[999]);
        Assert.Equal(14.6146, sigmaMax, 3);
        Assert.Equal(Math.Sqrt(0.00085 / 0.99915), Math.Sqrt((1 - scheduler.AlphasCumprodTable[0]) / scheduler.AlphasCumprodTable[0]), 12);
    }

    [Theory]
    [InlineData(TimestepSpacing.Leading, 1, 4, new[] { 751, 501, 251, 1 })]
    [InlineData(TimestepSpacing.Leading, 1, 10, new[] { 901, 801, 701, 601, 501, 401, 301, 201, 101, 1 })]
    [InlineData(TimestepSpacing.Linspace, 0, 4, new[] { 999, 666, 333, 0 })]
    [InlineData(TimestepSpacing.Linspace, 0, 10, new[] { 999, 888, 777, 666, 555, 444, 333, 222, 111, 0 })]
    [InlineData(TimestepSpacing.Trailing, 0, 4, new[] { 999, 749, 499, 249 })]
    [InlineData(TimestepSpacing.Trailing, 0, 10, new[] { 999, 899, 799, 699, 599, 499, 399, 299, 199, 99 })]
    public void Ddim_places_timesteps_by_spacing(TimestepSpacing spacing, int offset, int steps, int[] expected)
    {
        var scheduler = new DdimScheduler(Sd(spacing, offset));
        scheduler.SetTimesteps(steps);
        Assert.Equal(expected.Select(t => (double)t), scheduler.Timesteps);
    }

    [Fact]
    public void Fifty_steps_follow_the_spacing_formulas()
    {
        var leading = new DdimScheduler(Sd(TimestepSpacing.Leading, 1));
        leading.SetTimesteps(50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (double)(i * 20 + 1)).Reverse(), leading.Timesteps);

        var trailing = new DdimScheduler(Sd(TimestepSpacing.Trailing));
        trailing.SetTimesteps(50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (double)(999 - 20 * i)), trailing.Timesteps);

        var linspace = new DdimScheduler(Sd(TimestepSpacing.Linspace));
        linspace.SetTimesteps(50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => Math.Round(i * 999.0 / 49)).Reverse(), linspace.Timesteps);
    }

    [Fact]
    public void Pndm_repeats_the_second_timestep()
    {
        var scheduler = new PndmScheduler(Sd(TimestepSpacing.Leading, 1));
        scheduler.SetTimesteps(4);
        Assert.Equal([751.0, 501, 501, 251, 1], scheduler.Timesteps);
    }

    [Theory]
    [InlineData(1, new[] { 999 })]
    [InlineData(2, new[] { 999, 499 })]
    [InlineData(4, new[] { 999, 759, 499, 259 })]
    public void Lcm_draws_timesteps_from_the_teachers_fifty_step_grid(int steps, int[] expected)
    {
        var scheduler = new LcmScheduler(Sd(TimestepSpacing.Leading, 1) with { OriginalInferenceSteps = 50 });
        scheduler.SetTimesteps(steps);
        Assert.Equal(expected.Select(t => (double)t), scheduler.Timesteps);
    }

    [Fact]
    public void Euler_sigmas_end_at_zero_and_init_noise_sigma_depends_on_spacing()
    {
        var leading = new EulerScheduler(Sd(TimestepSpacing.Leading, 1));
        leading.SetTimesteps(10);
        Assert.Equal(11, leading.Sigmas.Count);
        Assert.Equal(0, leading.Sigmas[^1]);
        Assert.Equal(SchedulerMath.Sigma(901), leading.Sigmas[0], 9);
        Assert.Equal(Math.Sqrt(SchedulerMath.Sigma(901) * SchedulerMath.Sigma(901) + 1), leading.InitNoiseSigma, 9);
        Assert.Equal(1 / Math.Sqrt(SchedulerMath.Sigma(901) * SchedulerMath.Sigma(901) + 1), leading.ModelInputScale(0), 9);

        var trailing = new EulerScheduler(Sd(TimestepSpacing.Trailing));
        trailing.SetTimesteps(4);
        Assert.Equal(SchedulerMath.Sigma(999), trailing.InitNoiseSigma, 9);
    }

    [Fact]
    public void Euler_linspace_interpolates_sigmas_between_training_timesteps()
    {
        var scheduler = new EulerScheduler(Sd(TimestepSpacing.Linspace));
        scheduler.SetTimesteps(3); // 999, 499.5, 0
        Assert.Equal([999.0, 499.5, 0], scheduler.Timesteps);
        Assert.Equal((SchedulerMath.Sigma(499) + SchedulerMath.Sigma(500)) / 2, scheduler.Sigmas[1], 9);
    }

    [Fact]
    public void Karras_sigmas_run_from_sigma_max_to_sigma_min_with_rho_seven()
    {
        var scheduler = new DpmSolverMultistepScheduler(Sd(TimestepSpacing.Leading, 1), karras: true);
        scheduler.SetTimesteps(3);
        var max = SchedulerMath.Sigma(999);
        var min = SchedulerMath.Sigma(0);
        var middle = Math.Pow((Math.Pow(max, 1 / 7.0) + Math.Pow(min, 1 / 7.0)) / 2, 7);
        Assert.Equal([max, middle, min, 0], scheduler.Sigmas.ToArray(), (a, b) => Math.Abs(a - b) < 1e-9);
        Assert.Equal(999, scheduler.Timesteps[0]);
        Assert.Equal(0, scheduler.Timesteps[^1]);
        Assert.Equal("DPM++ 2M Karras", scheduler.Name);
    }

    [Fact]
    public void Dpm_leading_spacing_uses_steps_plus_one_points()
    {
        var scheduler = new DpmSolverMultistepScheduler(Sd(TimestepSpacing.Leading, 1));
        scheduler.SetTimesteps(4); // ratio 1000 // 5 = 200 → 801, 601, 401, 201
        Assert.Equal([801.0, 601, 401, 201], scheduler.Timesteps);
    }

    [Theory]
    [InlineData(50, 0.75, 13)]
    [InlineData(50, 1.0, 0)]
    [InlineData(50, 0.0, 50)]
    [InlineData(20, 0.5, 10)]
    public void Strength_skips_the_first_timesteps(int steps, double strength, int expected)
    {
        Assert.Equal(expected, Scheduler.StartIndexForStrength(steps, strength));
    }

    [Fact]
    public void Config_reads_a_diffusers_scheduler_config()
    {
        var config = SchedulerConfig.FromJson("""
            {"_class_name":"PNDMScheduler","beta_end":0.012,"beta_schedule":"scaled_linear","beta_start":0.00085,
             "num_train_timesteps":1000,"set_alpha_to_one":false,"skip_prk_steps":true,"steps_offset":1,
             "prediction_type":"v_prediction","timestep_spacing":"trailing","trained_betas":null}
            """);
        Assert.Equal(PredictionType.VPrediction, config.PredictionType);
        Assert.Equal(TimestepSpacing.Trailing, config.TimestepSpacing);
        Assert.Equal(1, config.StepsOffset);
        Assert.Equal(0.012, config.BetaEnd);
        Assert.Throws<NotSupportedException>(() => SchedulerConfig.FromJson("""{"prediction_type":"sample"}"""));
    }
}

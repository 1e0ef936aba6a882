using Microsoft.ML.OnnxRuntime;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tests.Imaging;
using T2IStudio.Generation.Tests.Pipelines;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.Sdxl;

public sealed class SdxlPipelineTests
{
    private const string LongPrompt =
        "a red circle on a blue square beside a green triangle under a yellow star, " +
        "a red circle on a blue square beside a green triangle under a yellow star, " +
        "a red circle on a blue square beside a green triangle under a yellow star, " +
        "a red circle on a blue square beside a green triangle under a yellow star, " +
        "a red circle on a blue square beside a green triangle under a yellow star, and a cat";

    private static GenerationRequest Request(double guidance = 5, string negative = "") => new()
    {
        Prompt = "a red circle",
        NegativePrompt = negative,
        Steps = 4,
        GuidanceScale = guidance,
        Width = 64,
        Height = 48,
        Seed = 11,
        Scheduler = SchedulerKind.Ddim,
    };

    [Fact]
    public void An_optimum_sdxl_folder_is_recognised_with_both_encoders_the_unet_extras_and_the_vae_config()
    {
        using var fixture = new SdxlFixture();
        var info = fixture.Info;

        Assert.True(info.IsAvailable, info.Problem);
        var traits = info.Traits!;
        Assert.Equal(ModelFamily.StableDiffusionXL, traits.Family);
        Assert.Equal(SdxlMath.Width, traits.TextWidth);
        Assert.Equal(new XlConditioning { FirstTextWidth = 4, SecondTextWidth = 6, PooledWidth = 5, TimeIdsLength = 6, ForceZerosForEmptyPrompt = true }, traits.Xl);
        Assert.Equal(0.13025, traits.VaeScalingFactor);
        Assert.True(traits.VaeForceUpcast);
        Assert.False(traits.IsFloat16Vae);
        Assert.Equal(ModelCatalog.MaxPromptChunks, traits.MaxPromptChunks);
        Assert.Equal((1024, 1024, 5.0), (traits.Defaults.Width, traits.Defaults.Height, traits.Defaults.Guidance));
        Assert.StartsWith("SDXL, epsilon", info.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void An_sdxl_folder_without_tokenizer_2_or_hidden_states_is_unavailable_with_the_reason()
    {
        using var noTokenizer = new SdxlFixture(withTokenizer2: false);
        Assert.False(noTokenizer.Info.IsAvailable);
        Assert.Contains("missing tokenizer_2/vocab.json", noTokenizer.Info.Problem, StringComparison.Ordinal);

        using var noHidden = new SdxlFixture(textEncoder2: "text_encoder_int32.onnx");
        Assert.False(noHidden.Info.IsAvailable);
        Assert.Contains("text_encoder_2 has no hidden_states.N outputs", noHidden.Info.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Penultimate_layers_of_both_encoders_are_concatenated_per_token_each_padded_by_its_own_tokenizer()
    {
        using var fixture = new SdxlFixture();
        using var model = fixture.Load();

        var embedding = SdxlFixture.Pipeline(model).EncodePrompt("a photo of a cat");

        Assert.Equal(1, embedding.Chunks);
        Assert.Equal(SdxlMath.Hidden("a photo of a cat"), embedding.Hidden);
        // Position 10 is padding: text_encoder saw 49407 (<|endoftext|>), text_encoder_2 saw 0 ("!").
        Assert.Equal(SdxlMath.First(ClipTokenizer.EndOfText, 0), embedding.Hidden[10 * SdxlMath.Width]);
        Assert.Equal(0f, embedding.Hidden[10 * SdxlMath.Width + SdxlMath.Width1]);
        Assert.Equal(SdxlMath.PooledOf("a photo of a cat"), embedding.Pooled!.Select(v => (double)v), new ToleranceComparer(1e-9));
    }

    [Fact]
    public void Long_prompts_are_chunked_on_both_encoders_with_weights_applied_per_chunk_and_the_pooled_embedding_from_the_first()
    {
        using var fixture = new SdxlFixture();
        using var model = fixture.Load();
        var pipeline = SdxlFixture.Pipeline(model);
        Assert.True(FixtureMath.Tokenizer.CountTokens(LongPrompt) > ClipTokenizer.Window);

        var plain = pipeline.EncodePrompt(LongPrompt);
        var weighted = pipeline.EncodePrompt(LongPrompt.Replace("and a cat", "and a (cat:1.5)", StringComparison.Ordinal));

        Assert.Equal(2, plain.Chunks);
        Assert.Equal(SdxlMath.Hidden(LongPrompt), plain.Hidden);
        Assert.Equal(SdxlMath.PooledOf(LongPrompt), plain.Pooled!.Select(v => (double)v), new ToleranceComparer(1e-9));
        // The weight lives in chunk 2: chunk 1 is untouched, and in chunk 2 "cat" grew against "a" on both
        // encoders while each encoder's mean over the chunk stayed (A1111's emphasis, chunk by chunk).
        var chunk = ClipTokenizer.SequenceLength * SdxlMath.Width;
        Assert.Equal(plain.Hidden.AsSpan(0, chunk).ToArray(), weighted.Hidden.AsSpan(0, chunk).ToArray());
        var second = SdxlMath.Chunks(LongPrompt, ClipTokenizer.EndOfText)[1];
        var cat = Array.LastIndexOf(second, FixtureMath.Tokenizer.Encode("cat")[0]);
        foreach (var offset in new[] { 0, SdxlMath.Width1 })
        {
            double Ratio(PromptEmbedding e) => e.Hidden[chunk + cat * SdxlMath.Width + offset] / e.Hidden[chunk + (cat - 1) * SdxlMath.Width + offset];
            Assert.Equal(1.5 * Ratio(plain), Ratio(weighted), 4);
            double Mean(PromptEmbedding e) => Enumerable.Range(0, ClipTokenizer.SequenceLength).Average(t => (double)e.Hidden[chunk + t * SdxlMath.Width + offset]);
            Assert.Equal(Mean(plain), Mean(weighted), 6);
        }
    }

    [Fact]
    public void Break_starts_a_new_chunk_on_both_encoders()
    {
        using var fixture = new SdxlFixture();
        using var model = fixture.Load();

        var embedding = SdxlFixture.Pipeline(model).EncodePrompt("a red circle BREAK a blue square");

        Assert.Equal(2, embedding.Chunks);
        var expected = SdxlMath.Hidden("a red circle").Concat(SdxlMath.Hidden("a blue square")).ToArray();
        Assert.Equal(expected, embedding.Hidden);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("", false)]
    [InlineData("blurry", true)]
    public void Pooled_text_embeds_and_time_ids_reach_the_unet_on_both_halves_of_guidance(string negative, bool forceZeros)
    {
        using var fixture = new SdxlFixture(forceZerosForEmptyPrompt: forceZeros);
        using var model = fixture.Load();
        var pipeline = SdxlFixture.Pipeline(model);
        var cond = pipeline.EncodePrompt("a red circle");
        var uncond = pipeline.EncodeNegative(negative, cond);
        var conditioning = pipeline.Condition(cond, uncond, 1, 5, width: 64, height: 48);
        using var unet = new StableDiffusionPipeline.UnetRun(model, conditioning, new StableDiffusionPipeline.LatentBatch(1, 6, 8));
        var plane = 6 * 8;
        var sample = new float[2 * 4 * plane];
        using var run = new RunOptions();

        var output = unet.Run(sample, 501, run, CancellationToken.None);

        var zeros = negative.Length == 0 && forceZeros;
        var timeIds = SdxlMath.TimeIds(64, 48);
        var expectedUncond = zeros
            ? SdxlMath.Terms(new float[cond.Hidden.Length], new double[SdxlMath.Pooled], timeIds)
            : SdxlMath.Terms(SdxlMath.Hidden(negative), SdxlMath.PooledOf(negative), timeIds);
        var expectedCond = SdxlMath.Terms(SdxlMath.Hidden("a red circle"), SdxlMath.PooledOf("a red circle"), timeIds);
        foreach (var (row, expected) in new[] { (0, expectedUncond), (1, expectedCond) })
        {
            for (var c = 0; c < 4; c++)
            {
                Assert.Equal(1e-4 * 501 + expected[c], output[(row * 4 + c) * plane], 6);
            }
        }
        Assert.Equal(zeros, uncond.Hidden.All(v => v == 0) && uncond.Pooled!.All(v => v == 0));
    }

    [Fact]
    public async Task Text_to_image_replays_the_guided_loop_exactly_with_vae_scaling_0_13025()
    {
        using var fixture = new SdxlFixture();
        using var model = fixture.Load();

        var result = await SdxlFixture.Pipeline(model).GenerateAsync(Request(negative: "blurry"));

        var image = Assert.Single(result.Images);
        Assert.Equal((64, 48), (image.Width, image.Height));
        AssertClose(Expected(Request(negative: "blurry")), image.Pixels);
    }

    [Fact]
    public async Task The_resident_loop_and_a_fixed_batch_unet_bind_the_sdxl_inputs_and_give_the_same_image()
    {
        using var hostFixture = new SdxlFixture();
        using var residentFixture = new SdxlFixture();
        using var chunkedFixture = new SdxlFixture(unet: "sdxl_unet_batch1.onnx");
        using var host = hostFixture.Load(residentLatents: false);
        using var resident = residentFixture.Load(residentLatents: true);
        using var chunked = chunkedFixture.Load(residentLatents: false);
        Assert.Equal(1, chunked.Traits.FixedUnetBatch);

        var fromHost = await SdxlFixture.Pipeline(host).GenerateAsync(Request());
        var fromResident = await SdxlFixture.Pipeline(resident).GenerateAsync(Request());
        var fromChunks = await SdxlFixture.Pipeline(chunked).GenerateAsync(Request());

        Assert.True(resident.ExecutionDevice.ResidentLatents);
        AssertClose(Expected(Request()), fromHost.Images[0].Pixels);
        Assert.Equal(fromHost.Images[0].Pixels, fromResident.Images[0].Pixels);
        Assert.Equal(fromHost.Images[0].Pixels, fromChunks.Images[0].Pixels);
    }

    [Fact]
    public async Task An_fp16_export_runs_and_decodes_its_latents_in_fp32()
    {
        using var fixture = new SdxlFixture(unet: "sdxl_unet_fp16.onnx", fp16: true);
        using var model = fixture.Load();
        Assert.True(model.Traits.IsFloat16);
        Assert.False(model.Traits.IsFloat16Vae); // the decoder takes fp32 latents, as force_upcast asks

        var result = await SdxlFixture.Pipeline(model).GenerateAsync(Request(negative: "blurry"));

        // fp16 text and UNet round each step; the fp32 decoder adds nothing, so pixels stay within a few levels.
        var expected = Expected(Request(negative: "blurry"));
        Assert.All(result.Images[0].Pixels.Zip(expected), pair => Assert.InRange(Math.Abs(pair.First - pair.Second), 0, 3));
    }

    [Fact]
    public async Task Sdxl_turbo_defaults_to_unguided_few_steps_and_places_trailing_timesteps()
    {
        var turbo = SdxlFixture.TurboConfig;
        using var fixture = new SdxlFixture(schedulerConfig: turbo);
        var info = fixture.Info;
        Assert.Equal((4, 0.0), (info.Traits!.Defaults.Steps, info.Traits.Defaults.Guidance));
        Assert.Contains("trailing timesteps", info.Summary, StringComparison.Ordinal);
        var scheduler = SchedulerFactory.Create(SchedulerKind.EulerAncestral, info.Scheduler!);
        scheduler.SetTimesteps(4);
        Assert.Equal([999.0, 749.0, 499.0, 249.0], scheduler.Timesteps);

        using var model = fixture.Load();
        var request = Request(guidance: 0, negative: "blurry");

        var result = await SdxlFixture.Pipeline(model).GenerateAsync(request);

        // Unguided: one UNet row conditioned on the prompt (guidance 0 is not u + 0·(c − u), which would be the negative).
        AssertClose(Expected(request, SchedulerConfig.FromJson(turbo)), result.Images[0].Pixels);
    }

    [Fact]
    public async Task Image_to_image_noises_the_encoded_source_to_the_strength_and_denoises_the_rest()
    {
        using var fixture = new SdxlFixture();
        using var model = fixture.Load();
        var source = PipelineTests.Blocks(64, 48);
        var request = Request(negative: "blurry") with { InitImage = source, Strength = 0.5, Steps = 6 };

        var result = await SdxlFixture.Pipeline(model).GenerateAsync(request);

        var scheduler = Ddim(SchedulerConfig.FromJson(SdxlFixture.DdimConfig), request.Steps);
        var start = Scheduler.StartIndexForStrength(scheduler.Timesteps.Count, request.Strength);
        var image = EncodeFixture(source);
        var noise = new float[image.Length];
        new GaussianNoise(request.Seed).Fill(noise);
        var latents = new float[image.Length];
        scheduler.AddNoise(image, noise, start, latents);
        var expected = SdxlMath.Denoise(latents, CondTerms("a red circle", request), CondTerms("blurry", request), request.GuidanceScale, scheduler, start, 64, 48);
        AssertClose(expected, result.Images[0].Pixels);
    }

    [Fact]
    public async Task Nine_channel_sdxl_inpainting_leaves_unmasked_pixels_alone_and_repaints_the_mask()
    {
        using var fixture = new SdxlFixture(unet: "sdxl_unet_inpaint9.onnx");
        using var model = fixture.Load();
        Assert.True(model.Traits.IsInpainting);
        var source = PipelineTests.Blocks(64, 64);
        var mask = MaskTests.Square(64, 24, 24, 16);
        var request = Request() with { Width = 64, Height = 64, InitImage = source, Strength = 1.0 };

        var result = await SdxlFixture.Pipeline(model).InpaintAsync(request, new InpaintOptions { Mask = mask, MaskBlur = 2 });

        var image = Assert.Single(result.Images);
        var feather = mask.Blur(2);
        for (var p = 0; p < feather.Values.Length; p++)
        {
            if (feather.Values[p] == 0)
            {
                Assert.Equal(source.Pixels.AsSpan(p * 3, 3).ToArray(), image.Pixels.AsSpan(p * 3, 3).ToArray());
            }
        }
        var centre = (32 * 64 + 32) * 3;
        Assert.NotEqual(source.Pixels.AsSpan(centre, 3).ToArray(), image.Pixels.AsSpan(centre, 3).ToArray());
    }

    [Fact]
    public void A_request_size_that_is_not_a_multiple_of_8_is_refused_with_a_message()
    {
        using var fixture = new SdxlFixture();

        var errors = StableDiffusionPipeline.Validate(fixture.Info, Request() with { Width = 1020 });

        Assert.Contains("Width must be a multiple of 8 between 8 and 2048.", errors);
    }

    private static byte[] Expected(GenerationRequest request, SchedulerConfig? config = null)
    {
        var scheduler = Ddim(config ?? SchedulerConfig.FromJson(SdxlFixture.DdimConfig), request.Steps);
        var latents = new float[4 * (request.Height / 8) * (request.Width / 8)];
        new GaussianNoise(request.Seed).Fill(latents);
        var guided = request.GuidanceScale > 1;
        return SdxlMath.Denoise(latents, CondTerms(request.Prompt, request), guided ? CondTerms(request.NegativePrompt!, request) : null, request.GuidanceScale, scheduler, 0, request.Width, request.Height);
    }

    // The per-channel terms the fixture UNet adds for a prompt (an empty negative is zeros: force_zeros_for_empty_prompt).
    private static double[] CondTerms(string prompt, GenerationRequest request) => prompt.Length == 0
        ? SdxlMath.Terms(new float[ClipTokenizer.SequenceLength * SdxlMath.Width], new double[SdxlMath.Pooled], SdxlMath.TimeIds(request.Width, request.Height))
        : SdxlMath.Terms(SdxlMath.Hidden(prompt), SdxlMath.PooledOf(prompt), SdxlMath.TimeIds(request.Width, request.Height));

    private static DdimScheduler Ddim(SchedulerConfig config, int steps)
    {
        var scheduler = new DdimScheduler(config);
        scheduler.SetTimesteps(steps);
        return scheduler;
    }

    // The fixture VAE encoder: 8×8 average pool of RGB in [−1, 1], channel 3 = channel 0, times 0.13025.
    private static float[] EncodeFixture(RgbImage image)
    {
        int w = image.Width / 8, h = image.Height / 8;
        var tensor = image.ToTensor();
        var plane = image.Width * image.Height;
        var latents = new float[4 * w * h];
        for (var c = 0; c < 4; c++)
        {
            for (var y = 0; y < h; y++)
            {
                for (var x = 0; x < w; x++)
                {
                    double sum = 0;
                    for (var dy = 0; dy < 8; dy++)
                    {
                        for (var dx = 0; dx < 8; dx++)
                        {
                            sum += tensor[(c % 3) * plane + (y * 8 + dy) * image.Width + x * 8 + dx];
                        }
                    }
                    latents[c * w * h + y * w + x] = (float)(sum / 64 * 0.13025);
                }
            }
        }
        return latents;
    }

    private static void AssertClose(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.All(actual.Zip(expected), pair => Assert.InRange(Math.Abs(pair.First - pair.Second), 0, 1));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}

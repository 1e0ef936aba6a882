using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tests.EmbeddedModel;
using T2IStudio.Generation.Tests.Imaging;

namespace T2IStudio.Generation.Tests.Pipelines;

/// <summary>
/// Cross-user batching on the embedded model (CPU): several jobs in one UNet call give each job exactly the images
/// it gets alone — its own seeds, prompts, negative prompt and guidance scale — and a cancelled job leaves the rest alone.
/// </summary>
public sealed class BatchedRunTests
{
    private static StableDiffusionPipeline Pipeline() => new(EmbeddedModel.EmbeddedModel.Model) { PreviewEvery = 0 };

    private static GenerationRequest Request(string prompt, ulong seed, double guidance, int images = 1, SchedulerKind scheduler = SchedulerKind.EulerAncestral, string negative = "") => new()
    {
        Prompt = prompt,
        NegativePrompt = negative,
        Steps = 6,
        GuidanceScale = guidance,
        Width = 64,
        Height = 64,
        Seed = seed,
        BatchSize = images,
        Scheduler = scheduler,
    };

    private static async Task<GenerationResult> Alone(GenerationRequest request, InpaintOptions? inpaint = null) =>
        inpaint is null ? await Pipeline().GenerateAsync(request) : await Pipeline().InpaintAsync(request, inpaint);

    private static async Task AssertSameAsAlone(BatchOutcome outcome, GenerationRequest request, InpaintOptions? inpaint = null)
    {
        Assert.Null(outcome.Error);
        var batched = outcome.Result!;
        var alone = await Alone(request, inpaint);
        Assert.Equal(alone.Seeds, batched.Seeds);
        Assert.Equal(alone.Images.Count, batched.Images.Count);
        for (var k = 0; k < alone.Images.Count; k++)
        {
            Assert.Equal(alone.Images[k].Pixels, batched.Images[k].Pixels);
        }
    }

    [Theory]
    [InlineData(SchedulerKind.EulerAncestral)] // fresh noise every step, from each job's own stream
    [InlineData(SchedulerKind.DpmPlusPlus2MKarras)] // a history of earlier outputs, each job its own
    [InlineData(SchedulerKind.Ddim)]
    public async Task Each_job_of_a_batch_gets_the_images_it_gets_alone(SchedulerKind scheduler)
    {
        GenerationRequest[] requests =
        [
            Request("a small red circle above a large blue square", 1, 7, scheduler: scheduler),
            Request("a green triangle", 42, 3, images: 2, scheduler: scheduler, negative: "red"),
            Request("a large yellow square", 5, 9.5, scheduler: scheduler),
        ];

        var outcomes = await Pipeline().GenerateBatchAsync([.. requests.Select(r => new BatchMember(r, null, null, default))]);

        Assert.Equal(3, outcomes.Count);
        for (var m = 0; m < requests.Length; m++)
        {
            await AssertSameAsAlone(outcomes[m], requests[m]);
        }
        // Not trivially equal: different jobs drew different pictures.
        Assert.NotEqual(outcomes[0].Result!.Images[0].Pixels, outcomes[2].Result!.Images[0].Pixels);
    }

    [Fact]
    public async Task A_long_prompt_runs_beside_a_short_one_without_changing_either()
    {
        var longPrompt = string.Join(", ", Enumerable.Repeat("a small red circle above a large blue square", 12));
        GenerationRequest[] requests = [Request(longPrompt, 3, 7), Request("a blue circle", 4, 7)];

        var outcomes = await Pipeline().GenerateBatchAsync([.. requests.Select(r => new BatchMember(r, null, null, default))]);

        await AssertSameAsAlone(outcomes[0], requests[0]);
        await AssertSameAsAlone(outcomes[1], requests[1]);
    }

    [Fact]
    public async Task Image_to_image_jobs_batch_with_their_own_sources()
    {
        var first = Request("a red square", 8, 6) with { InitImage = PipelineTests.Blocks(64, 64), Strength = 0.6 };
        var second = Request("a blue circle", 9, 4) with { InitImage = Flipped(PipelineTests.Blocks(64, 64)), Strength = 0.6 };

        var outcomes = await Pipeline().GenerateBatchAsync([new BatchMember(first, null, null, default), new BatchMember(second, null, null, default)]);

        await AssertSameAsAlone(outcomes[0], first);
        await AssertSameAsAlone(outcomes[1], second);
    }

    [Fact]
    public async Task Inpainting_jobs_batch_with_their_own_masks_and_keep_their_unmasked_pixels()
    {
        var source = PipelineTests.Blocks(64, 64);
        var first = Request("a red square", 8, 6) with { InitImage = source, Strength = 0.8 };
        var second = Request("a blue circle", 9, 4) with { InitImage = source, Strength = 0.8 };
        var firstMask = new InpaintOptions { Mask = MaskTests.Square(64, 8, 8, 16), MaskBlur = 2 };
        var secondMask = new InpaintOptions { Mask = MaskTests.Square(64, 32, 24, 24), MaskBlur = 0, OnlyMasked = true, Padding = 8 };

        var outcomes = await Pipeline().GenerateBatchAsync([new BatchMember(first, firstMask, null, default), new BatchMember(second, secondMask, null, default)]);

        await AssertSameAsAlone(outcomes[0], first, firstMask);
        await AssertSameAsAlone(outcomes[1], second, secondMask);
        var image = outcomes[0].Result!.Images[0];
        var corner = (60 * 64 + 60) * 3; // far from the first mask
        Assert.Equal(source.Pixels.AsSpan(corner, 3).ToArray(), image.Pixels.AsSpan(corner, 3).ToArray());
    }

    [Fact]
    public async Task Cancelling_one_job_drops_its_rows_at_the_next_step_and_the_others_finish_as_alone()
    {
        using var cancelSecond = new CancellationTokenSource();
        var steps = new List<int>();
        var progress = new PipelineTests.SynchronousProgress(p =>
        {
            steps.Add(p.Step);
            if (p.Step == 2)
            {
                cancelSecond.Cancel();
            }
        });
        GenerationRequest[] requests = [Request("a red circle", 11, 7), Request("a blue square", 12, 7), Request("a green circle", 13, 5, images: 2)];

        var outcomes = await Pipeline().GenerateBatchAsync(
        [
            new BatchMember(requests[0], null, null, default),
            new BatchMember(requests[1], null, progress, cancelSecond.Token),
            new BatchMember(requests[2], null, null, default),
        ]);

        Assert.IsType<OperationCanceledException>(outcomes[1].Error);
        Assert.Null(outcomes[1].Result);
        Assert.Equal([1, 2], steps); // no step after the one it was cancelled in
        await AssertSameAsAlone(outcomes[0], requests[0]);
        await AssertSameAsAlone(outcomes[2], requests[2]);
    }

    [Fact]
    public async Task Each_job_hears_its_own_progress_and_sees_previews_of_its_own_image()
    {
        var reports = new List<GenerationProgress>[] { [], [] };
        GenerationRequest[] requests = [Request("a red circle", 21, 7), Request("a blue square", 22, 7)];
        var pipeline = new StableDiffusionPipeline(EmbeddedModel.EmbeddedModel.Model) { PreviewEvery = 3 };

        var outcomes = await pipeline.GenerateBatchAsync(
            [.. requests.Select((r, m) => new BatchMember(r, null, new PipelineTests.SynchronousProgress(reports[m].Add), default))]);

        foreach (var list in reports)
        {
            Assert.Equal([1, 2, 3, 4, 5, 6], list.Select(p => p.Step));
            Assert.All(list, p => Assert.Equal(6, p.TotalSteps));
            Assert.Equal([3, 6], list.Where(p => p.Preview is not null).Select(p => p.Step));
        }
        Assert.NotEqual(reports[0][^1].Preview!.Pixels, reports[1][^1].Preview!.Pixels);
        Assert.All(outcomes, o => Assert.Null(o.Error));
    }

    [Fact]
    public async Task An_invalid_job_ends_with_its_reason_and_the_others_run()
    {
        var good = Request("a red circle", 31, 7);
        var bad = Request("a blue square", 32, 7) with { BatchSize = 0 };

        var outcomes = await Pipeline().GenerateBatchAsync([new BatchMember(bad, null, null, default), new BatchMember(good, null, null, default)]);

        var error = Assert.IsType<ArgumentException>(outcomes[0].Error);
        Assert.Contains("Batch size must be between", error.Message, StringComparison.Ordinal);
        await AssertSameAsAlone(outcomes[1], good);
    }

    [Fact]
    public async Task Jobs_that_cannot_share_a_UNet_call_are_refused_before_any_work()
    {
        var a = Request("a red circle", 1, 7);
        var b = a with { Steps = 7 };
        var c = a with { GuidanceScale = 1 }; // guidance off: a different row layout

        await Assert.ThrowsAsync<ArgumentException>(() => Pipeline().GenerateBatchAsync([new BatchMember(a, null, null, default), new BatchMember(b, null, null, default)]));
        await Assert.ThrowsAsync<ArgumentException>(() => Pipeline().GenerateBatchAsync([new BatchMember(a, null, null, default), new BatchMember(c, null, null, default)]));
    }

    [Fact]
    public async Task Cancelling_the_batch_ends_every_job_cancelled()
    {
        using var stop = new CancellationTokenSource();
        var progress = new PipelineTests.SynchronousProgress(p =>
        {
            if (p.Step == 1)
            {
                stop.Cancel();
            }
        });

        var outcomes = await Pipeline().GenerateBatchAsync(
            [new BatchMember(Request("a red circle", 1, 7), null, progress, default), new BatchMember(Request("a blue square", 2, 7), null, null, default)], stop.Token);

        Assert.All(outcomes, o => Assert.IsType<OperationCanceledException>(o.Error));
    }

    private static RgbImage Flipped(RgbImage image)
    {
        var pixels = new byte[image.Pixels.Length];
        for (var y = 0; y < image.Height; y++)
        {
            image.Pixels.AsSpan(y * image.Width * 3, image.Width * 3).CopyTo(pixels.AsSpan((image.Height - 1 - y) * image.Width * 3));
        }
        return new RgbImage(image.Width, image.Height, pixels);
    }
}

using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Numerics;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Pipelines;

public sealed partial class StableDiffusionPipeline
{
    /// <summary>
    /// Runs several jobs' requests in the same UNet calls (cross-user batching): every member must share the size,
    /// sampler, step count, kind of run, strength and whether guidance is on (<see cref="BatchKey"/>). Each member
    /// keeps its own seeds and step noise (a seed gives the same image batched or alone), its own prompt, negative
    /// prompt and guidance scale, its own progress and previews, and its own cancellation: a cancelled member's rows
    /// leave the batch before the next step while the others run on. A member whose request is invalid ends with
    /// its <see cref="ArgumentException"/>; the others run. Never throws for one member's sake.
    /// </summary>
    /// <remarks>
    /// A batch of one runs exactly as <see cref="GenerateAsync"/> (and the resident loop where the device keeps the
    /// latents on it). Two or more members run the host loop: guidance with each member's scale and each member's
    /// sampler step on its own rows. Members whose prompts encode to different lengths (over 75 tokens: more 77-token
    /// chunks) run as separate groups, each its own UNet call per step, so no prompt is padded. Every row of a call
    /// is at the same timestep: members share the schedule by their key.
    /// </remarks>
    /// <exception cref="ArgumentException">The members do not share a batch.</exception>
    public Task<IReadOnlyList<BatchOutcome>> GenerateBatchAsync(IReadOnlyList<BatchMember> members, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<BatchOutcome>>([]);
        }
        foreach (var member in members.Skip(1))
        {
            if (!ShareBatch(members[0], member))
            {
                throw new ArgumentException("Batched requests must share the size, sampler, steps, kind of run, strength and guidance on or off.", nameof(members));
            }
        }
        return Task.Run(() => members.Count == 1 ? [RunAlone(members[0], cancellationToken)] : RunBatch(members, cancellationToken), CancellationToken.None);
    }

    private bool ShareBatch(BatchMember a, BatchMember b)
    {
        var (x, y) = (a.Request, b.Request);
        var fromImage = x.InitImage is not null;
        return x.Width == y.Width && x.Height == y.Height && x.Scheduler == y.Scheduler && x.Steps == y.Steps
            && fromImage == (y.InitImage is not null)
            && (a.Inpaint is null) == (b.Inpaint is null)
            && (!fromImage || x.Strength.Equals(y.Strength))
            && (a.Inpaint is null || a.Inpaint.MaskedContent == b.Inpaint!.MaskedContent)
            && Guided(x) == Guided(y);
    }

    private bool Guided(GenerationRequest request) => request.GuidanceScale > 1 && !_model.Traits.IsLcm;

    // One member on its own: exactly GenerateAsync / InpaintAsync, its outcome instead of its exceptions.
    private BatchOutcome RunAlone(BatchMember member, CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(member.CancellationToken, cancellationToken);
        try
        {
            if (member.Inpaint is { } options)
            {
                var work = PrepareInpaint(member.Request, options);
                return new BatchOutcome(work.Paste(Run(work.Request, work.Plan(this), member.Progress, both.Token)), null);
            }
            var errors = Validate(member.Request);
            if (errors.Count > 0)
            {
                throw new ArgumentException(string.Join(" ", errors), nameof(member));
            }
            return new BatchOutcome(Run(member.Request, null, member.Progress, both.Token), null);
        }
        catch (OperationCanceledException) when (both.IsCancellationRequested)
        {
            return new BatchOutcome(null, new OperationCanceledException(member.CancellationToken.IsCancellationRequested ? member.CancellationToken : cancellationToken));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new BatchOutcome(null, ex);
        }
    }

    private IReadOnlyList<BatchOutcome> RunBatch(IReadOnlyList<BatchMember> members, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var traits = _model.Traits;
        var outcomes = new BatchOutcome?[members.Count];
        var runs = new List<MemberRun>();
        for (var index = 0; index < members.Count; index++)
        {
            var member = members[index];
            try
            {
                member.CancellationToken.ThrowIfCancellationRequested();
                runs.Add(Prepare(index, member));
            }
            catch (OperationCanceledException) when (member.CancellationToken.IsCancellationRequested)
            {
                outcomes[index] = new BatchOutcome(null, new OperationCanceledException(member.CancellationToken));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                outcomes[index] = new BatchOutcome(null, ex);
            }
        }

        // The run's UNet calls stop mid-call only when no member is left to want them.
        using var runOptions = new RunOptions();
        using var stopped = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void StopIfNoneLeft()
        {
            if (runs.TrueForAll(r => r.Member.CancellationToken.IsCancellationRequested))
            {
                try
                {
                    stopped.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The run ended first.
                }
            }
        }
        var registrations = runs.Select(r => r.Member.CancellationToken.Register(StopIfNoneLeft)).ToList();
        using var terminate = stopped.Token.Register(() => runOptions.Terminate = true);
        var groups = new Dictionary<int, UnetRun>();
        try
        {
            var active = new List<MemberRun>(runs);
            if (active.Count > 0)
            {
                var scheduler = active[0].Scheduler;
                for (var i = active[0].Start; i < scheduler.Timesteps.Count && active.Count > 0; i++)
                {
                    Drop(active, outcomes, groups, cancellationToken);
                    if (active.Count == 0)
                    {
                        break;
                    }
                    foreach (var group in active.GroupBy(r => r.Conditioning.Sequence))
                    {
                        var rows = group.ToList();
                        if (!groups.TryGetValue(group.Key, out var unet))
                        {
                            unet = new UnetRun(_model, Combine(rows), new LatentBatch(rows.Sum(r => r.Batch), rows[0].LatentHeight, rows[0].LatentWidth));
                            groups[group.Key] = unet;
                        }
                        Step(unet, rows, i, runOptions, stopped.Token);
                    }
                    foreach (var run in active)
                    {
                        run.Report(i, PreviewEvery, traits);
                    }
                }
                Drop(active, outcomes, groups, cancellationToken);
                foreach (var run in active)
                {
                    try
                    {
                        var images = Decode(run.Latents, run.Batch, run.Request.Width, run.Request.Height, runOptions, stopped.Token);
                        var result = new GenerationResult(images, run.Seeds, clock.Elapsed, _model.Device.Name);
                        outcomes[run.Index] = new BatchOutcome(run.Inpaint is { } work ? work.Paste(result) : result, null);
                    }
                    catch (OperationCanceledException) when (run.Member.CancellationToken.IsCancellationRequested || cancellationToken.IsCancellationRequested)
                    {
                        outcomes[run.Index] = Cancelled(run.Member, cancellationToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopped.IsCancellationRequested)
        {
            foreach (var run in runs.Where(r => outcomes[r.Index] is null))
            {
                outcomes[run.Index] = Cancelled(run.Member, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The shared UNet call failed: every member still in it failed with it.
            foreach (var run in runs.Where(r => outcomes[r.Index] is null))
            {
                outcomes[run.Index] = new BatchOutcome(null, ex);
            }
        }
        finally
        {
            registrations.ForEach(r => r.Dispose());
            foreach (var unet in groups.Values)
            {
                unet.Dispose();
            }
        }
        return [.. outcomes.Select(o => o ?? new BatchOutcome(null, new OperationCanceledException(cancellationToken)))];
    }

    private static BatchOutcome Cancelled(BatchMember member, CancellationToken batch) =>
        new(null, new OperationCanceledException(member.CancellationToken.IsCancellationRequested ? member.CancellationToken : batch));

    // Members whose token is cancelled leave before the next step (their group's UNet is bound again for the rest);
    // the batch's own token stops everyone.
    private static void Drop(List<MemberRun> active, BatchOutcome?[] outcomes, Dictionary<int, UnetRun> groups, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var leaving = active.Where(r => r.Member.CancellationToken.IsCancellationRequested).ToList();
        foreach (var run in leaving)
        {
            outcomes[run.Index] = new BatchOutcome(null, new OperationCanceledException(run.Member.CancellationToken));
            active.Remove(run);
            if (groups.Remove(run.Conditioning.Sequence, out var unet))
            {
                unet.Dispose();
            }
        }
    }

    // Everything one member needs in the shared loop, computed as its own run would.
    private MemberRun Prepare(int index, BatchMember member)
    {
        var request = member.Request;
        InpaintWork? inpaint = null;
        if (member.Inpaint is { } options)
        {
            inpaint = PrepareInpaint(request, options);
            request = inpaint.Request;
        }
        else
        {
            var errors = Validate(request);
            if (errors.Count > 0)
            {
                throw new ArgumentException(string.Join(" ", errors), nameof(member));
            }
        }
        var traits = _model.Traits;
        var plan = inpaint?.Plan(this);
        var batch = request.BatchSize;
        int h = request.Height / traits.VaeScaleFactor, w = request.Width / traits.VaeScaleFactor;
        var perImage = traits.LatentChannels * h * w;
        var seeds = Enumerable.Range(0, batch).Select(k => request.Seed + (ulong)k).ToArray();
        var guided = Guided(request);
        var cond = EncodePrompt(request.Prompt);
        var conditioning = Condition(cond, guided ? EncodeNegative(request.NegativePrompt, cond) : null, batch, request.GuidanceScale, request.Width, request.Height);
        var scheduler = SchedulerFactory.Create(request.Scheduler, _model.Info.Scheduler!);
        scheduler.SetTimesteps(request.Steps);
        var start = request.InitImage is null || (plan?.FullDenoise ?? false) ? 0 : Scheduler.StartIndexForStrength(scheduler.Timesteps.Count, request.Strength);
        var (noise, imageLatents, latents) = StartLatents(request, plan, scheduler, start, seeds, perImage);
        return new MemberRun(index, member, request, inpaint, plan, seeds, conditioning, scheduler, start, noise, imageLatents, latents,
            new GaussianNoise(request.Seed ^ StepNoiseSalt), h, w);
    }

    // The text inputs of a group's rows: [uncond of every member's images, cond of every member's images] when guided,
    // in member order, so row r of the UNet batch is the same row its member's own run would have at its place.
    private static UnetConditioning Combine(IReadOnlyList<MemberRun> runs)
    {
        var first = runs[0].Conditioning;
        var guided = first.Guided;
        var images = runs.Sum(r => r.Batch);
        var rows = guided ? 2 * images : images;
        float[] Gather(Func<UnetConditioning, float[]?> part)
        {
            var perRow = part(first)!.Length / first.Rows;
            var gathered = new float[rows * perRow];
            var row = 0;
            for (var half = 0; half < (guided ? 2 : 1); half++)
            {
                foreach (var run in runs)
                {
                    var values = part(run.Conditioning)!;
                    values.AsSpan(half * run.Batch * perRow, run.Batch * perRow).CopyTo(gathered.AsSpan(row * perRow));
                    row += run.Batch;
                }
            }
            return gathered;
        }
        return new UnetConditioning(Gather(c => c.Hidden), first.HiddenPerRow, rows, guided, 0, first.TimestepCond is null ? null : Gather(c => c.TimestepCond))
        {
            Sequence = first.Sequence,
            TextEmbeds = first.TextEmbeds is null ? null : Gather(c => c.TextEmbeds),
            TimeIds = first.TimeIds is null ? null : Gather(c => c.TimeIds),
        };
    }

    // One denoising step of a group: one UNet call for all its rows, then each member's guidance and sampler step on
    // its own rows — the same arithmetic, element by element, as PredictNoise and the host loop of a run of its own.
    private void Step(UnetRun unet, List<MemberRun> runs, int stepIndex, RunOptions runOptions, CancellationToken cancellationToken)
    {
        var first = runs[0];
        var plane = first.LatentHeight * first.LatentWidth;
        var perImage = _model.Traits.LatentChannels * plane;
        var unetChannels = unet.InputChannels;
        var guided = unet.Conditioning.Guided;
        var images = runs.Sum(r => r.Batch);
        var sample = unet.SampleBuffer;
        var row = 0;
        for (var half = 0; half < (guided ? 2 : 1); half++)
        {
            foreach (var run in runs)
            {
                var scale = run.Scheduler.ModelInputScale(stepIndex);
                var extra = run.Plan?.UnetExtraChannels;
                for (var k = 0; k < run.Batch; k++, row++)
                {
                    LatentMath.Scale(run.Latents.AsSpan(k * perImage, perImage), scale, sample.AsSpan(row * unetChannels * plane, perImage));
                    if (extra is not null)
                    {
                        var extraPerImage = extra.Length / run.Batch;
                        extra.AsSpan(k * extraPerImage, extraPerImage).CopyTo(sample.AsSpan(row * unetChannels * plane + perImage));
                    }
                }
            }
        }

        var output = unet.OutputBuffer; // every member's part is copied or guided out of it below, before the next step
        unet.RunInto(sample, first.Scheduler.Timesteps[stepIndex], output, runOptions, cancellationToken);
        var before = 0;
        foreach (var run in runs)
        {
            var prediction = new float[run.Batch * perImage];
            var own = before * perImage;
            if (!guided)
            {
                output.AsSpan(own, prediction.Length).CopyTo(prediction);
            }
            else
            {
                var condition = (images + before) * perImage;
                LatentMath.Guide(output.AsSpan(own, prediction.Length), output.AsSpan(condition, prediction.Length), run.Request.GuidanceScale, prediction);
            }
            before += run.Batch;
            run.Scheduler.Step(prediction, stepIndex, run.Latents, run.StepNoise);
            run.Plan?.BlendKnownLatents(run.Latents, run.ImageLatents!, run.Noise, run.Scheduler, stepIndex);
        }
    }

    /// <summary>One member's state in a batched run: its request at the working size, latents, sampler and noise.</summary>
    private sealed record MemberRun(
        int Index,
        BatchMember Member,
        GenerationRequest Request,
        InpaintWork? Inpaint,
        InpaintPlan? Plan,
        ulong[] Seeds,
        UnetConditioning Conditioning,
        Scheduler Scheduler,
        int Start,
        float[] Noise,
        float[]? ImageLatents,
        float[] Latents,
        GaussianNoise StepNoise,
        int LatentHeight,
        int LatentWidth)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public int Batch => Seeds.Length;

        /// <summary>This member's progress after step <paramref name="stepIndex"/>, with a preview of its first image now and then.</summary>
        public void Report(int stepIndex, int previewEvery, ModelTraits traits)
        {
            if (Member.Progress is not { } progress)
            {
                return;
            }
            var done = stepIndex - Start + 1;
            var total = Scheduler.Timesteps.Count - Start;
            var preview = previewEvery > 0 && (done % previewEvery == 0 || done == total)
                ? LatentPreview.Render(Latents, 0, traits.LatentChannels, LatentWidth, LatentHeight, traits.Family, traits.VaeScalingFactor)
                : null;
            progress.Report(new GenerationProgress(done, total, _clock.Elapsed, preview));
        }
    }
}

using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Numerics;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Prompts;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Pipelines;

/// <summary>
/// Stable Diffusion on ONNX Runtime, as diffusers runs it: tokenize → text encoder → denoising loop
/// (classifier-free guidance as one batch-2 UNet call, order [uncond, cond]) → VAE decoder. Handles
/// text-to-image and image-to-image; <see cref="InpaintAsync"/> builds on the same loop.
/// </summary>
public sealed partial class StableDiffusionPipeline
{
    /// <summary>The pipeline for <paramref name="model"/>: one prompt encoder per text encoder (SDXL has two).</summary>
    public StableDiffusionPipeline(LoadedModel model)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        if (model.Traits.Xl is null)
        {
            var hidden = model.TextEncoder.OutputNames.Contains("last_hidden_state") ? "last_hidden_state" : null;
            _encoders = [new PromptTextEncoder(model.Tokenizer, model.TextEncoder, hidden, null)];
        }
        else
        {
            // diffusers' SDXL: hidden_states[-2] of both encoders, concatenated; pooled text_embeds of encoder 2.
            var second = model.SecondTextEncoder ?? throw new InvalidOperationException($"Model '{model.Info.Id}' is SDXL but text_encoder_2 is not loaded.");
            _encoders =
            [
                new PromptTextEncoder(model.Tokenizer, model.TextEncoder, TextEncoderOutputs.Penultimate(model.TextEncoder.OutputNames), null),
                new PromptTextEncoder(model.SecondTokenizer!, second, TextEncoderOutputs.Penultimate(second.OutputNames), "text_embeds"),
            ];
        }
    }

    /// <summary>XORed into the seed for the noise ancestral and consistency samplers add between steps.</summary>
    public const ulong StepNoiseSalt = 0x9E3779B97F4A7C15UL;

    private readonly LoadedModel _model;
    private readonly PromptTextEncoder[] _encoders;

    /// <summary>A preview every this many steps (and at the last step); 0 turns previews off.</summary>
    public int PreviewEvery { get; init; } = 5;

    /// <summary>Every reason <paramref name="request"/> cannot run on this model; empty when it can.</summary>
    public IReadOnlyList<string> Validate(GenerationRequest request) => Validate(_model.Info, request);

    /// <summary>
    /// Every reason <paramref name="request"/> cannot run on <paramref name="model"/>, checked from the model's
    /// files alone (nothing is loaded), so a queue can refuse a job before it waits for a worker.
    /// </summary>
    public static IReadOnlyList<string> Validate(ModelInfo model, GenerationRequest request) =>
        Validate(model, request, startsFromImage: request?.InitImage is not null);

    /// <summary>
    /// As <see cref="Validate(ModelInfo, GenerationRequest)"/>, for a run that starts from an image of the
    /// request's size (<paramref name="startsFromImage"/>) whether or not that image is at hand yet — an
    /// inpainting job is checked before its source is cropped to the working size.
    /// </summary>
    public static IReadOnlyList<string> Validate(ModelInfo model, GenerationRequest request, bool startsFromImage)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        if (!model.IsAvailable || model.Traits is null)
        {
            return [$"Model '{model.Id}' is not available: {model.Problem}"];
        }
        var traits = model.Traits;
        var errors = new List<string>();
        if (request.Prompt is null || request.Prompt.Length > GenerationLimits.MaxPromptLength)
        {
            errors.Add($"The prompt must be at most {GenerationLimits.MaxPromptLength} characters.");
        }
        if ((request.NegativePrompt?.Length ?? 0) > GenerationLimits.MaxPromptLength)
        {
            errors.Add($"The negative prompt must be at most {GenerationLimits.MaxPromptLength} characters.");
        }
        if (GenerationLimits.HasNul(request.Prompt) || GenerationLimits.HasNul(request.NegativePrompt))
        {
            errors.Add(GenerationLimits.NulMessage);
        }
        if (request.Steps is < GenerationLimits.MinSteps or > GenerationLimits.MaxSteps)
        {
            errors.Add($"Steps must be between {GenerationLimits.MinSteps} and {GenerationLimits.MaxSteps}.");
        }
        if (request.GuidanceScale is < GenerationLimits.MinGuidance or > GenerationLimits.MaxGuidance || double.IsNaN(request.GuidanceScale))
        {
            errors.Add($"Guidance must be between {GenerationLimits.MinGuidance} and {GenerationLimits.MaxGuidance}.");
        }
        foreach (var (name, value) in new[] { ("Width", request.Width), ("Height", request.Height) })
        {
            if (value < traits.VaeScaleFactor || value > GenerationLimits.MaxSide || value % traits.VaeScaleFactor != 0)
            {
                errors.Add($"{name} must be a multiple of {traits.VaeScaleFactor} between {traits.VaeScaleFactor} and {GenerationLimits.MaxSide}.");
            }
        }
        if (request.BatchSize is < GenerationLimits.MinBatchSize or > GenerationLimits.MaxBatchSize)
        {
            errors.Add($"Batch size must be between {GenerationLimits.MinBatchSize} and {GenerationLimits.MaxBatchSize}.");
        }
        if (request.Strength is < GenerationLimits.MinStrength or > GenerationLimits.MaxStrength || double.IsNaN(request.Strength))
        {
            errors.Add($"Strength must be between {GenerationLimits.MinStrength} and {GenerationLimits.MaxStrength}.");
        }
        if (startsFromImage && !traits.HasVaeEncoder)
        {
            errors.Add($"Model '{model.Id}' has no VAE encoder, so it cannot start from an image.");
        }
        if (request.InitImage is { } init && (init.Width != request.Width || init.Height != request.Height))
        {
            errors.Add($"The source image is {init.Width}×{init.Height}; the request is {request.Width}×{request.Height}.");
        }
        if (traits.IsLcm && request.Scheduler != SchedulerKind.Lcm)
        {
            errors.Add("LCM models need the LCM scheduler.");
        }
        if (traits.IsInpainting && !startsFromImage)
        {
            errors.Add($"Model '{model.Id}' is an inpainting model: give it an image and a mask.");
        }
        return errors;
    }

    /// <summary>Runs <paramref name="request"/> on a worker thread. Cancellation takes effect before the next UNet call.</summary>
    /// <exception cref="ArgumentException">The request is invalid (the message lists every problem).</exception>
    public Task<GenerationResult> GenerateAsync(GenerationRequest request, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var errors = Validate(request);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(request));
        }
        return Task.Run(() => Run(request, inpaint: null, progress, cancellationToken), cancellationToken);
    }

    private GenerationResult Run(GenerationRequest request, InpaintPlan? inpaint, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var traits = _model.Traits;
        var batch = request.BatchSize;
        int h = request.Height / traits.VaeScaleFactor, w = request.Width / traits.VaeScaleFactor;
        var channels = traits.LatentChannels;
        var perImage = channels * h * w;
        var seeds = Enumerable.Range(0, batch).Select(k => request.Seed + (ulong)k).ToArray();

        var guided = request.GuidanceScale > 1 && !traits.IsLcm;
        var cond = EncodePrompt(request.Prompt);
        var conditioning = Condition(cond, guided ? EncodeNegative(request.NegativePrompt, cond) : null, batch, request.GuidanceScale, request.Width, request.Height);

        var scheduler = SchedulerFactory.Create(request.Scheduler, _model.Info.Scheduler!);
        scheduler.SetTimesteps(request.Steps);
        var start = request.InitImage is null || (inpaint?.FullDenoise ?? false) ? 0 : Scheduler.StartIndexForStrength(scheduler.Timesteps.Count, request.Strength);

        var (noise, imageLatents, latents) = StartLatents(request, inpaint, scheduler, start, seeds, perImage);
        var stepNoise = new GaussianNoise(request.Seed ^ StepNoiseSalt);

        var total = scheduler.Timesteps.Count - start;
        using var runOptions = new RunOptions();
        using var cancelRun = cancellationToken.Register(() => runOptions.Terminate = true);
        using var unet = start < scheduler.Timesteps.Count ? new UnetRun(_model, conditioning, new LatentBatch(batch, h, w)) : null;
        using var resident = unet?.Binding is not null && _model.ExecutionDevice.ResidentLatents
            ? StartResident(unet, latents, inpaint?.UnetExtraChannels, inpaint?.Known(imageLatents!, noise))
            : null;
        for (var i = start; i < scheduler.Timesteps.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (resident is not null)
            {
                resident.Step(scheduler, i, start, stepNoise, runOptions, cancellationToken);
            }
            else
            {
                var prediction = PredictNoise(unet!, latents, scheduler.ModelInputScale(i), scheduler.Timesteps[i], inpaint?.UnetExtraChannels, runOptions, cancellationToken);
                scheduler.Step(prediction, i, latents, stepNoise);
                inpaint?.BlendKnownLatents(latents, imageLatents!, noise, scheduler, i);
            }

            var done = i - start + 1;
            if (progress is not null)
            {
                var preview = PreviewEvery > 0 && (done % PreviewEvery == 0 || done == total)
                    ? LatentPreview.Render(resident?.Read() ?? latents, 0, channels, w, h, traits.Family, traits.VaeScalingFactor)
                    : null;
                progress.Report(new GenerationProgress(done, total, clock.Elapsed, preview));
            }
        }
        if (resident is not null)
        {
            latents = resident.Read();
        }

        cancellationToken.ThrowIfCancellationRequested();
        var images = Decode(latents, batch, request.Width, request.Height, runOptions, cancellationToken);
        return new GenerationResult(images, seeds, clock.Elapsed, _model.Device.Name);
    }

    // The initial noise of every image (seed + k), the source's latents when the run starts from an image, and the
    // latents the loop starts from: pure noise, the source noised to the starting step, or the source (strength 0).
    private (float[] Noise, float[]? ImageLatents, float[] Latents) StartLatents(GenerationRequest request, InpaintPlan? inpaint, Scheduler scheduler, int start, ulong[] seeds, int perImage)
    {
        var batch = seeds.Length;
        var noise = new float[batch * perImage];
        for (var k = 0; k < batch; k++)
        {
            new GaussianNoise(seeds[k]).Fill(noise.AsSpan(k * perImage, perImage));
        }
        float[]? imageLatents = null;
        if (request.InitImage is { } init)
        {
            imageLatents = Repeat(EncodeImage(inpaint?.EncodeSource ?? init), batch);
            inpaint?.PrepareImageLatents(imageLatents);
        }
        float[] latents;
        if (imageLatents is null || (inpaint?.FullDenoise ?? false))
        {
            latents = noise.Select(v => (float)(v * scheduler.InitNoiseSigma)).ToArray();
        }
        else if (start == scheduler.Timesteps.Count)
        {
            latents = [.. imageLatents]; // strength 0: nothing to denoise
        }
        else
        {
            latents = new float[noise.Length];
            scheduler.AddNoise(imageLatents, noise, start, latents);
        }
        return (noise, imageLatents, latents);
    }

    // The resident loop, or null (the host loop runs) when it cannot start on this device: then it is turned
    // off for later runs, with the reason on the device for the admin page, rather than failing every job.
    private ResidentLatents? StartResident(UnetRun unet, float[] latents, float[]? extraChannels, KnownLatents? known)
    {
        try
        {
            return new ResidentLatents(_model, unet, latents, extraChannels, known);
        }
        catch (OnnxRuntimeException ex)
        {
            _model.ExecutionDevice.DisableResidentLatents($"The resident loop could not start, so the host loop runs: {ex.Message.Split('\n', 2)[0].Trim()}");
            return null;
        }
    }

    /// <summary>The hidden states the UNet reads for one prompt, A1111 weights applied: [chunks × 77 × width].</summary>
    internal float[] EncodeText(string prompt) => EncodePrompt(prompt).Hidden;

    /// <summary>
    /// One prompt's text conditioning: each encoder encodes it (weights, chunks); SDXL's two are concatenated along
    /// the width per token ([768 ‖ 1280] = 2048) with the pooled embedding of encoder 2's first chunk.
    /// </summary>
    internal PromptEmbedding EncodePrompt(string prompt)
    {
        var chunks = _model.Traits.MaxPromptChunks;
        var parts = _encoders.Select(e => e.Encode(prompt, chunks)).ToArray();
        if (parts.Length == 1)
        {
            return parts[0];
        }
        // Both tokenizers share CLIP's vocabulary, so both split a prompt into the same number of chunks.
        var (first, second) = (parts[0], parts[1]);
        if (first.Chunks != second.Chunks)
        {
            throw new InvalidOperationException($"The two tokenizers split the prompt into {first.Chunks} and {second.Chunks} chunks.");
        }
        var width = first.Width + second.Width;
        var hidden = new float[first.Sequence * width];
        for (var t = 0; t < first.Sequence; t++)
        {
            first.Hidden.AsSpan(t * first.Width, first.Width).CopyTo(hidden.AsSpan(t * width));
            second.Hidden.AsSpan(t * second.Width, second.Width).CopyTo(hidden.AsSpan(t * width + first.Width));
        }
        return new PromptEmbedding(hidden, first.Chunks, width, second.Pooled);
    }

    /// <summary>
    /// The negative side of guidance. SDXL with <c>force_zeros_for_empty_prompt</c> (diffusers) conditions an empty
    /// negative prompt on zeros, hidden states and pooled alike, rather than on the encoding of "".
    /// </summary>
    internal PromptEmbedding EncodeNegative(string? negative, PromptEmbedding cond)
    {
        if (string.IsNullOrWhiteSpace(negative) && _model.Traits.Xl is { ForceZerosForEmptyPrompt: true })
        {
            return cond with { Hidden = new float[cond.Hidden.Length], Pooled = cond.Pooled is null ? null : new float[cond.Pooled.Length] };
        }
        return EncodePrompt(negative ?? "");
    }

    /// <summary>
    /// <paramref name="embedding"/> lengthened to <paramref name="chunks"/> chunks with the encoding of an empty chunk,
    /// as A1111 pads the shorter of prompt and negative prompt (both halves of a guided batch need one length).
    /// </summary>
    private PromptEmbedding PadChunks(PromptEmbedding embedding, int chunks)
    {
        if (embedding.Chunks >= chunks)
        {
            return embedding;
        }
        // A zeroed negative (force_zeros_for_empty_prompt) stays zeros; any other prompt pads with the encoding of "".
        var empty = Array.TrueForAll(embedding.Hidden, v => v == 0) ? new float[embedding.Hidden.Length / embedding.Chunks] : EncodePrompt("").Hidden;
        var hidden = new float[chunks * empty.Length];
        embedding.Hidden.CopyTo(hidden, 0);
        for (var c = embedding.Chunks; c < chunks; c++)
        {
            empty.CopyTo(hidden, c * empty.Length);
        }
        return embedding with { Hidden = hidden, Chunks = chunks };
    }

    /// <summary>VAE-encodes an image to scaled latents [C × h × w] (the distribution's mean for latent_parameters).</summary>
    internal float[] EncodeImage(RgbImage source)
    {
        var encoder = _model.VaeEncoder ?? throw new InvalidOperationException($"Model '{_model.Info.Id}' has no VAE encoder.");
        var output = encoder.Run([ComponentInput.OfFloats("sample", source.ToTensor(), 1, 3, source.Height, source.Width)]);
        var channels = _model.Traits.LatentChannels;
        var plane = (int)(output.Shape[2] * output.Shape[3]);
        var mean = output.Values.AsSpan(0, channels * plane); // latent_parameters = mean ‖ logvar
        var scaled = new float[mean.Length];
        for (var i = 0; i < mean.Length; i++)
        {
            scaled[i] = (float)(mean[i] * _model.Traits.VaeScalingFactor);
        }
        return scaled;
    }

    /// <summary>As <see cref="Condition(PromptEmbedding, PromptEmbedding?, int, double, int, int)"/> for hidden states alone (SD 1.x / 2.x).</summary>
    internal UnetConditioning Condition(float[] cond, float[]? uncond, int batch, double guidance)
    {
        var width = _model.Traits.TextWidth;
        PromptEmbedding Wrap(float[] hidden) => new(hidden, hidden.Length / (width * ClipTokenizer.SequenceLength), width, null);
        return Condition(Wrap(cond), uncond is null ? null : Wrap(uncond), batch, guidance, 0, 0);
    }

    /// <summary>
    /// The UNet's text inputs for a whole run, built once: hidden states for every row of the UNet batch
    /// ([uncond × batch, cond × batch] when guided); for LCM UNets, the guidance embedding per row; for SDXL,
    /// the pooled <c>text_embeds</c> per row and <c>time_ids</c> = original size (h, w), crop top-left (0, 0) and
    /// target size (h, w) of <paramref name="width"/> × <paramref name="height"/> — diffusers' defaults, the same
    /// on the negative side since no negative sizes are given.
    /// </summary>
    internal UnetConditioning Condition(PromptEmbedding condEmbedding, PromptEmbedding? uncondEmbedding, int batch, double guidance, int width, int height)
    {
        var chunks = Math.Max(condEmbedding.Chunks, uncondEmbedding?.Chunks ?? 0);
        condEmbedding = PadChunks(condEmbedding, chunks);
        uncondEmbedding = uncondEmbedding is null ? null : PadChunks(uncondEmbedding, chunks);
        var cond = condEmbedding.Hidden;
        var uncond = uncondEmbedding?.Hidden;
        var rows = uncond is null ? batch : 2 * batch;
        var hidden = new float[rows * cond.Length];
        for (var r = 0; r < rows; r++)
        {
            (uncond is not null && r < batch ? uncond : cond).CopyTo(hidden, r * cond.Length);
        }
        float[]? textEmbeds = null, timeIds = null;
        if (_model.Traits.Xl is { } xl)
        {
            var pooled = condEmbedding.Pooled ?? throw new InvalidOperationException("text_encoder_2 gave no pooled text_embeds.");
            float[] ids = [height, width, 0, 0, height, width];
            textEmbeds = new float[rows * xl.PooledWidth];
            timeIds = new float[rows * ids.Length];
            for (var r = 0; r < rows; r++)
            {
                (uncondEmbedding is not null && r < batch ? uncondEmbedding.Pooled! : pooled).CopyTo(textEmbeds, r * xl.PooledWidth);
                ids.CopyTo(timeIds, r * ids.Length);
            }
        }
        float[]? timestepCond = null;
        if (_model.Traits.IsLcm)
        {
            var info = _model.Unet.Inputs["timestep_cond"];
            var dim = info.Dimensions.Length == 2 && info.Dimensions[1] > 0 ? info.Dimensions[1] : 256;
            var embedding = LcmGuidanceEmbedding(guidance, dim);
            timestepCond = new float[rows * dim];
            for (var r = 0; r < rows; r++)
            {
                embedding.CopyTo(timestepCond, r * dim);
            }
        }
        return new UnetConditioning(hidden, cond.Length, rows, uncond is not null, guidance, timestepCond)
        {
            Sequence = condEmbedding.Sequence,
            TextEmbeds = textEmbeds,
            TimeIds = timeIds,
        };
    }

    /// <summary>One guided noise prediction for a batch of latents, on the UNet bound for this run; the UNet sees the
    /// latents times <paramref name="inputScale"/> (the scheduler's model-input scale), rounded to float.</summary>
    internal static float[] PredictNoise(UnetRun unet, float[] latents, double inputScale, double timestep, float[]? extraChannels, RunOptions runOptions, CancellationToken cancellationToken)
    {
        var shape = unet.Shape;
        var conditioning = unet.Conditioning;
        var batch = shape.Batch;
        var perImage = latents.Length / batch;
        var plane = shape.Height * shape.Width;
        var rows = conditioning.Rows;

        // Every row sees the same latents: the uncond half and the cond half of a guided batch. Each image is scaled
        // once, into its first row, and copied to the other.
        var unetChannels = unet.InputChannels;
        var sample = unet.SampleBuffer;
        for (var r = 0; r < rows; r++)
        {
            var k = r % batch;
            var row = sample.AsSpan(r * unetChannels * plane);
            if (r >= batch)
            {
                sample.AsSpan(k * unetChannels * plane, perImage).CopyTo(row);
            }
            else if (inputScale == 1.0)
            {
                latents.AsSpan(k * perImage, perImage).CopyTo(row);
            }
            else
            {
                LatentMath.Scale(latents.AsSpan(k * perImage, perImage), inputScale, row[..perImage]);
            }
            if (extraChannels is not null)
            {
                var extraPerImage = extraChannels.Length / batch;
                extraChannels.AsSpan(k * extraPerImage, extraPerImage).CopyTo(row[perImage..]);
            }
        }

        if (!conditioning.Guided)
        {
            return unet.Run(sample, timestep, runOptions, cancellationToken); // the caller's to keep (multistep samplers do)
        }
        var output = unet.OutputBuffer; // read here only, so one buffer serves every step
        unet.RunInto(sample, timestep, output, runOptions, cancellationToken);
        var guided = new float[batch * perImage];
        LatentMath.Guide(output.AsSpan(0, guided.Length), output.AsSpan(guided.Length, guided.Length), conditioning.Guidance, guided);
        return guided;
    }

    /// <summary>
    /// The UNet bound for one generation (<see cref="OnnxComponent.Bind"/>): one binding per chunk of rows
    /// (all rows at once unless the export fixes its batch), with the text conditioning bound once — on CUDA
    /// it is copied to the GPU once per generation, not once per step. Only the latents and the timestep
    /// are bound per step.
    /// </summary>
    internal sealed class UnetRun : IDisposable
    {
        private readonly bool _scalarTimestep;
        private readonly List<(int First, int Count, ComponentBinding Binding)> _chunks = [];
        private float[]? _sample;
        private float[]? _output;

        public UnetRun(LoadedModel model, UnetConditioning conditioning, LatentBatch shape)
        {
            var traits = model.Traits;
            Shape = shape;
            Conditioning = conditioning;
            InputChannels = traits.UnetInputChannels;
            OutputChannels = traits.LatentChannels;
            _scalarTimestep = traits.TimestepIsScalar;
            var rows = conditioning.Rows;
            var chunk = traits.FixedUnetBatch ?? rows;
            var hiddenPerRow = conditioning.HiddenPerRow;
            try
            {
                for (var first = 0; first < rows; first += chunk)
                {
                    var n = Math.Min(chunk, rows - first);
                    var constants = new List<ComponentInput>
                    {
                        ComponentInput.OfFloats("encoder_hidden_states", Rows(conditioning.Hidden, first, n, hiddenPerRow), n, conditioning.Sequence, hiddenPerRow / conditioning.Sequence),
                    };
                    // SDXL's extra conditioning is as constant through a run as the hidden states: bound once with them.
                    foreach (var (name, values) in new[] { ("text_embeds", conditioning.TextEmbeds), ("time_ids", conditioning.TimeIds) })
                    {
                        if (values is not null)
                        {
                            var dim = values.Length / rows;
                            constants.Add(ComponentInput.OfFloats(name, Rows(values, first, n, dim), n, dim));
                        }
                    }
                    if (conditioning.TimestepCond is { } timestepCond)
                    {
                        var dim = timestepCond.Length / rows;
                        constants.Add(ComponentInput.OfFloats("timestep_cond", Rows(timestepCond, first, n, dim), n, dim));
                    }
                    var shapes = constants.Select(c => (c.Name, c.Shape)).Concat(
                    [
                        ("sample", [n, InputChannels, shape.Height, shape.Width]),
                        ("timestep", _scalarTimestep ? [] : [(long)n]),
                    ]);
                    var binding = model.Unet.Bind(shapes);
                    _chunks.Add((first, n, binding));
                    constants.ForEach(binding.BindConstant);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>The latent batch this run was bound for.</summary>
        public LatentBatch Shape { get; }

        /// <summary>What the UNet is conditioned on.</summary>
        public UnetConditioning Conditioning { get; }

        /// <summary>Channels of the UNet's sample input (latents plus any inpainting channels).</summary>
        public int InputChannels { get; }

        /// <summary>Channels of its output (the latent channels).</summary>
        public int OutputChannels { get; }

        /// <summary>The host buffer a step's UNet input is assembled in (every row, every input channel), one per run:
        /// each step overwrites all of it and ONNX Runtime reads it only during <see cref="Run"/>.</summary>
        public float[] SampleBuffer => _sample ??= new float[Conditioning.Rows * InputChannels * Shape.Height * Shape.Width];

        /// <summary>The one binding when all rows run together (what <see cref="ResidentLatents"/> needs); null when the export fixes a smaller batch.</summary>
        public ComponentBinding? Binding => _chunks.Count == 1 ? _chunks[0].Binding : null;

        /// <summary>A host buffer for the UNet's output of every row, one per run, for callers that read it before the next step.</summary>
        public float[] OutputBuffer => _output ??= new float[Conditioning.Rows * OutputChannels * Shape.Height * Shape.Width];

        /// <summary>The UNet's raw output for every row of <paramref name="sample"/> at <paramref name="timestep"/>.</summary>
        public float[] Run(float[] sample, double timestep, RunOptions runOptions, CancellationToken cancellationToken)
        {
            var result = new float[Conditioning.Rows * OutputChannels * Shape.Height * Shape.Width];
            RunInto(sample, timestep, result, runOptions, cancellationToken);
            return result;
        }

        /// <summary>As <see cref="Run"/>, into <paramref name="result"/> (every row's output).</summary>
        public void RunInto(float[] sample, double timestep, float[] result, RunOptions runOptions, CancellationToken cancellationToken)
        {
            var plane = Shape.Height * Shape.Width;
            int inPerRow = InputChannels * plane, outPerRow = OutputChannels * plane;
            foreach (var (first, n, binding) in _chunks)
            {
                ComponentInput[] inputs =
                [
                    ComponentInput.OfFloats("sample", Rows(sample, first, n, inPerRow), n, InputChannels, Shape.Height, Shape.Width),
                    Timestep(timestep, n),
                ];
                try
                {
                    binding.RunTo(inputs, result.AsSpan(first * outPerRow, n * outPerRow), runOptions);
                }
                catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
            }
        }

        /// <summary>Runs every row from <paramref name="sample"/> into <paramref name="output"/>, tensors that stay on the device.</summary>
        public void RunResident(OrtValue sample, OrtValue output, double timestep, RunOptions runOptions, CancellationToken cancellationToken)
        {
            var binding = Binding ?? throw new InvalidOperationException("The UNet batch runs in chunks.");
            try
            {
                binding.RunInto("sample", sample, output, [Timestep(timestep, Conditioning.Rows)], runOptions);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }

        private ComponentInput Timestep(double timestep, int rows) => _scalarTimestep
            ? ComponentInput.OfFloats("timestep", [(float)timestep])
            : ComponentInput.OfFloats("timestep", Enumerable.Repeat((float)timestep, rows).ToArray(), rows);

        /// <inheritdoc />
        public void Dispose()
        {
            foreach (var (_, _, binding) in _chunks)
            {
                binding.Dispose();
            }
            _chunks.Clear();
        }
    }

    // Rows [first, first + count) of a row-major array; the array itself when that is all of it (no copy).
    private static float[] Rows(float[] values, int first, int count, int perRow) =>
        first == 0 && count * perRow == values.Length ? values : values.AsSpan(first * perRow, count * perRow).ToArray();

    /// <summary>The sinusoidal embedding of guidance scale <paramref name="guidance"/> (diffusers' LCM pipeline).</summary>
    public static float[] LcmGuidanceEmbedding(double guidance, int dim)
    {
        var w = (guidance - 1) * 1000.0;
        var half = dim / 2;
        var scale = Math.Log(10000.0) / (half - 1);
        var result = new float[dim];
        for (var i = 0; i < half; i++)
        {
            var angle = w * Math.Exp(-scale * i);
            result[i] = (float)Math.Sin(angle);
            result[half + i] = (float)Math.Cos(angle);
        }
        return result;
    }

    /// <summary>Decodes [B, C, h, w] latents to images.</summary>
    internal RgbImage[] Decode(float[] latents, int batch, int width, int height, RunOptions runOptions, CancellationToken cancellationToken)
    {
        var traits = _model.Traits;
        var perImage = latents.Length / batch;
        var images = new RgbImage[batch];
        for (var k = 0; k < batch; k++)
        {
            var scaled = latents.AsSpan(k * perImage, perImage).ToArray();
            for (var i = 0; i < scaled.Length; i++)
            {
                scaled[i] = (float)(scaled[i] / traits.VaeScalingFactor);
            }
            ComponentOutput output;
            try
            {
                output = _model.VaeDecoder.Run(
                    [ComponentInput.OfFloats("latent_sample", scaled, 1, traits.LatentChannels, height / traits.VaeScaleFactor, width / traits.VaeScaleFactor)],
                    runOptions: runOptions);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            if (_model.VaeDecoder.Inputs["latent_sample"].ElementType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16
                && Array.Exists(output.Values, v => !float.IsFinite(v)))
            {
                throw new InvalidOperationException(
                    $"Model '{_model.Info.Id}': the fp16 VAE decoder overflowed. Set \"force_upcast\": true in vae_decoder/config.json " +
                    "so it runs in fp32, or use a VAE fine-tuned for fp16.");
            }
            images[k] = RgbImage.FromTensor(output.Values, 0, (int)output.Shape[3], (int)output.Shape[2]);
        }
        return images;
    }

    /// <summary>The latent tensor's batch and spatial size.</summary>
    internal readonly record struct LatentBatch(int Batch, int Height, int Width);

    /// <summary>What the UNet is conditioned on for a whole run (see <see cref="Condition(PromptEmbedding, PromptEmbedding?, int, double, int, int)"/>).</summary>
    internal sealed record UnetConditioning(float[] Hidden, int HiddenPerRow, int Rows, bool Guided, double Guidance, float[]? TimestepCond)
    {
        /// <summary>Tokens per row of <see cref="Hidden"/> (77 per prompt chunk).</summary>
        public int Sequence { get; init; } = ClipTokenizer.SequenceLength;

        /// <summary>SDXL: the pooled text embedding per row ([uncond × batch, cond × batch] when guided).</summary>
        public float[]? TextEmbeds { get; init; }

        /// <summary>SDXL: the size conditioning per row (original size, crop top-left, target size).</summary>
        public float[]? TimeIds { get; init; }
    }

    /// <summary><paramref name="one"/> laid end to end <paramref name="times"/> times.</summary>
    internal static float[] Repeat(float[] one, int times)
    {
        var result = new float[one.Length * times];
        for (var k = 0; k < times; k++)
        {
            one.CopyTo(result, k * one.Length);
        }
        return result;
    }
}

using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Pipelines;

/// <summary>What the masked area starts from.</summary>
public enum MaskedContent
{
    /// <summary>The source image as it is.</summary>
    Original,

    /// <summary>The masked area filled with the mean colour of the kept area.</summary>
    Fill,

    /// <summary>The masked area's latents replaced by fresh noise.</summary>
    LatentNoise,
}

/// <summary>How to inpaint: the mask and what to do with it.</summary>
public sealed record InpaintOptions
{
    /// <summary>255 where to repaint, at the source image's size.</summary>
    public required GrayMask Mask { get; init; }

    /// <summary>Feather radius in pixels applied to the mask's edge.</summary>
    public int MaskBlur { get; init; } = 4;

    /// <summary>Repaint what is unmasked instead.</summary>
    public bool InvertMask { get; init; }

    /// <summary>What the masked area starts from.</summary>
    public MaskedContent MaskedContent { get; init; } = MaskedContent.Original;

    /// <summary>Work on a padded crop around the mask at the request's full resolution, then paste it back.</summary>
    public bool OnlyMasked { get; init; }

    /// <summary>Pixels around the mask's bounding box in "only masked" mode.</summary>
    public int Padding { get; init; } = 32;

    /// <summary>Every setting out of range (mask blur 0–64, padding 0–256); empty when all are fine.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (MaskBlur is < 0 or > GenerationLimits.MaxMaskBlur)
        {
            problems.Add($"Mask blur must be between 0 and {GenerationLimits.MaxMaskBlur} pixels.");
        }
        if (Padding is < 0 or > GenerationLimits.MaxPadding)
        {
            problems.Add($"Padding must be between 0 and {GenerationLimits.MaxPadding} pixels.");
        }
        return problems;
    }
}

public sealed partial class StableDiffusionPipeline
{
    /// <summary>
    /// Inpaints <see cref="GenerationRequest.InitImage"/> through <paramref name="options"/>' mask: a 9-channel
    /// UNet gets [latents, mask, masked-image latents]; an ordinary UNet has the known latents blended back
    /// each step. The result is composited through the feathered mask, so pixels it does not touch keep
    /// their exact bytes. In "only masked" mode the request's width and height are the working resolution
    /// of the crop; the result has the source's size.
    /// </summary>
    public Task<GenerationResult> InpaintAsync(GenerationRequest request, InpaintOptions options, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        var work = PrepareInpaint(request, options);
        return Task.Run(() => work.Paste(Run(work.Request, work.Plan(this), progress, cancellationToken)), cancellationToken);
    }

    // Checks an inpainting request and works out its crop, the request at the working resolution and the feathered
    // mask it is pasted back through: the same for a run of its own and for a member of a batch.
    private InpaintWork PrepareInpaint(GenerationRequest request, InpaintOptions options)
    {
        var source = request.InitImage ?? throw new ArgumentException("Inpainting needs a source image.", nameof(request));
        var problems = new List<string>();
        if (options.Mask.Width != source.Width || options.Mask.Height != source.Height)
        {
            problems.Add($"The mask is {options.Mask.Width}×{options.Mask.Height}; the image is {source.Width}×{source.Height}.");
        }
        problems.AddRange(options.Problems());
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        var mask = options.InvertMask ? options.Mask.Invert() : options.Mask;
        if (mask.IsEmpty)
        {
            throw new ArgumentException("The mask is empty: paint the area to change.", nameof(options));
        }
        var feather = mask.Blur(options.MaskBlur);
        var region = options.OnlyMasked
            ? ImageOps.OnlyMaskedRegion(mask, options.Padding, request.Width, request.Height)!.Value
            : new PixelRect(0, 0, source.Width, source.Height);
        var workImage = ImageOps.Resize(ImageOps.Crop(source, region), request.Width, request.Height);
        var workMask = ImageOps.Resize(mask.Crop(region), request.Width, request.Height);
        var work = request with { InitImage = workImage };
        var errors = Validate(work);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(request));
        }
        return new InpaintWork(work, workMask, options.MaskedContent, source, feather, region);
    }

    /// <summary>An inpainting request at its working resolution, and how its results go back into the source.</summary>
    private sealed record InpaintWork(GenerationRequest Request, GrayMask WorkMask, MaskedContent Content, RgbImage Source, GrayMask Feather, PixelRect Region)
    {
        /// <summary>The denoising loop's state for it (encodes the source: on the worker thread).</summary>
        public InpaintPlan Plan(StableDiffusionPipeline pipeline) => new(pipeline, pipeline._model.Traits, Request, WorkMask, Content);

        /// <summary>Each generated image composited into the source through the feathered mask.</summary>
        public GenerationResult Paste(GenerationResult result) => result with
        {
            Images = result.Images
                .Select(image => ImageOps.Composite(Source, ImageOps.Resize(image, Region.Width, Region.Height), Feather, Region))
                .ToList(),
        };
    }

    /// <summary>The per-run state of an inpainting job inside the shared denoising loop.</summary>
    private sealed class InpaintPlan
    {
        private readonly ModelTraits _traits;
        private readonly float[] _latentMask;
        private readonly MaskedContent _content;
        private readonly ulong _seed;

        public InpaintPlan(StableDiffusionPipeline pipeline, ModelTraits traits, GenerationRequest request, GrayMask mask, MaskedContent content)
        {
            _traits = traits;
            _content = content;
            _seed = request.Seed;
            var image = request.InitImage!;
            _latentMask = mask.ToLatent(traits.VaeScaleFactor);
            EncodeSource = content == MaskedContent.Fill ? FillMasked(image, mask) : image;
            FullDenoise = request.Strength >= 1.0;
            if (traits.IsInpainting)
            {
                // diffusers: masked_image = image * (mask < 0.5); the UNet sees [mask, its latents] after the latents.
                var masked = pipeline.EncodeImage(KeepUnmasked(image, mask));
                var perImage = _latentMask.Length + masked.Length;
                UnetExtraChannels = new float[request.BatchSize * perImage];
                for (var k = 0; k < request.BatchSize; k++)
                {
                    _latentMask.CopyTo(UnetExtraChannels, k * perImage);
                    masked.CopyTo(UnetExtraChannels, k * perImage + _latentMask.Length);
                }
            }
        }

        /// <summary>The image whose latents the known area starts from.</summary>
        public RgbImage EncodeSource { get; }

        /// <summary>Strength 1: start from pure noise rather than noised image latents.</summary>
        public bool FullDenoise { get; }

        /// <summary>[mask, masked-image latents] per image for 9-channel UNets; null for ordinary UNets.</summary>
        public float[]? UnetExtraChannels { get; }

        /// <summary>Latent noise: replace the masked cells of the clean image latents with fresh noise.</summary>
        public void PrepareImageLatents(float[] imageLatents)
        {
            if (_content != MaskedContent.LatentNoise)
            {
                return;
            }
            var plane = _latentMask.Length;
            var fresh = new float[imageLatents.Length];
            new GaussianNoise(_seed ^ 0xD1B54A32D192ED03UL).Fill(fresh);
            for (var i = 0; i < imageLatents.Length; i++)
            {
                if (_latentMask[i % plane] > 0.5f)
                {
                    imageLatents[i] = fresh[i];
                }
            }
        }

        /// <summary>What <see cref="BlendKnownLatents"/> needs, for the resident loop; null for 9-channel UNets.</summary>
        public KnownLatents? Known(float[] imageLatents, float[] noise) =>
            _traits.IsInpainting ? null : new KnownLatents(_latentMask, imageLatents, noise);

        /// <summary>Ordinary UNets: outside the mask, put back the image latents noised to the next step's level.</summary>
        public void BlendKnownLatents(float[] latents, float[] imageLatents, float[] noise, Scheduler scheduler, int stepIndex)
        {
            if (_traits.IsInpainting)
            {
                return;
            }
            var known = imageLatents;
            if (stepIndex < scheduler.Timesteps.Count - 1)
            {
                known = new float[latents.Length];
                scheduler.AddNoise(imageLatents, noise, stepIndex + 1, known);
            }
            var plane = _latentMask.Length;
            for (var i = 0; i < latents.Length; i++)
            {
                var m = _latentMask[i % plane];
                latents[i] = (1 - m) * known[i] + m * latents[i];
            }
        }

        private static RgbImage KeepUnmasked(RgbImage image, GrayMask mask)
        {
            var pixels = (byte[])image.Pixels.Clone();
            for (var p = 0; p < mask.Values.Length; p++)
            {
                if (mask.Values[p] >= 128)
                {
                    // Black in [0, 255] is −1 in the VAE's range; diffusers zeroes in [−1, 1], i.e. mid-grey.
                    pixels[p * 3] = pixels[p * 3 + 1] = pixels[p * 3 + 2] = 128;
                }
            }
            return new RgbImage(image.Width, image.Height, pixels);
        }

        private static RgbImage FillMasked(RgbImage image, GrayMask mask)
        {
            long r = 0, g = 0, b = 0, n = 0;
            for (var p = 0; p < mask.Values.Length; p++)
            {
                if (mask.Values[p] < 128)
                {
                    r += image.Pixels[p * 3];
                    g += image.Pixels[p * 3 + 1];
                    b += image.Pixels[p * 3 + 2];
                    n++;
                }
            }
            n = Math.Max(n, 1);
            var pixels = (byte[])image.Pixels.Clone();
            for (var p = 0; p < mask.Values.Length; p++)
            {
                if (mask.Values[p] >= 128)
                {
                    pixels[p * 3] = (byte)(r / n);
                    pixels[p * 3 + 1] = (byte)(g / n);
                    pixels[p * 3 + 2] = (byte)(b / n);
                }
            }
            return new RgbImage(image.Width, image.Height, pixels);
        }
    }
}

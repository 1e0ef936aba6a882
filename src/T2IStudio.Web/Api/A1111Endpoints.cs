using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Api;

/// <summary>
/// The AUTOMATIC1111-compatible API under <c>/sdapi/v1</c>: A1111's routes, field names and answers, on T2I Studio's
/// queue, quotas and gallery. <c>txt2img</c> and <c>img2img</c> wait for their images as A1111 does; the jobs appear
/// live in the caller's gallery like any other. <c>interrupt</c> stops every waiting and running job of the token.
/// </summary>
public static partial class A1111Endpoints
{
    /// <summary>Maps the routes of <c>/sdapi/v1</c> onto <paramref name="sdapi"/> (already token-authenticated and rate-limited).</summary>
    public static RouteGroupBuilder MapA1111(this RouteGroupBuilder sdapi)
    {
        ArgumentNullException.ThrowIfNull(sdapi);
        sdapi.MapPost("/txt2img", Txt2ImgAsync).WithName("A1111Txt2Img")
            .WithSummary("Generates images from a prompt and answers when they are done (A1111 txt2img).")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);
        sdapi.MapPost("/img2img", Img2ImgAsync).WithName("A1111Img2Img")
            .WithSummary("Repaints a picture, or the masked part of it, and answers when done (A1111 img2img).")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);
        sdapi.MapGet("/progress", ProgressAsync).WithName("A1111Progress")
            .WithSummary("Progress of the token's job, with its latest preview (A1111 progress).");
        sdapi.MapPost("/interrupt", InterruptAsync).WithName("A1111Interrupt")
            .WithSummary("Stops every waiting and running job of the token (A1111 interrupt).")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);
        sdapi.MapGet("/sd-models", SdModels).WithName("A1111SdModels")
            .WithSummary("The installed models (A1111 sd-models).");
        sdapi.MapGet("/samplers", Samplers).WithName("A1111Samplers")
            .WithSummary("The samplers, under A1111's names (A1111 samplers).");
        sdapi.MapGet("/options", GetOptionsAsync).WithName("A1111GetOptions")
            .WithSummary("The settings A1111 clients read, with the token's model (A1111 options).");
        sdapi.MapPost("/options", SetOptionsAsync).WithName("A1111SetOptions")
            .WithSummary("Selects the token's model (sd_model_checkpoint); other settings are ignored (A1111 options).")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);
        sdapi.MapPost("/png-info", PngInfoAsync).WithName("A1111PngInfo")
            .WithSummary("Reads the generation parameters in a picture's text chunks (A1111 png-info).");
        return sdapi;
    }

    /// <summary>A1111 <c>txt2img</c>.</summary>
    public static async Task<Results<A1111ImagesResult<A1111Txt2ImgResponse, A1111Txt2ImgRequest>, ValidationProblem, ProblemHttpResult>> Txt2ImgAsync(
        A1111Txt2ImgRequest request, ClaimsPrincipal user, [AsParameters] A1111Services services, CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(services);
        var (prepared, invalid, refused) = await PrepareAsync(request, user, services, startsFromImage: false, null, aborted);
        if (invalid is not null || refused is not null)
        {
            return invalid is not null ? invalid : refused!;
        }
        var run = prepared!;
        var outcome = await A1111Jobs.RunAsync(services, user, run.Request, run.TotalImages,
            (job, ct) => services.Generation.SubmitAsync(user, new JobRequest { Model = run.Model.Id, Request = job }, ct), aborted);
        if (Ended(outcome, services.Log) is { } problem)
        {
            return problem;
        }
        var echo = (A1111Txt2ImgRequest)Echo(request, run);
        var info = Info(run, outcome, extra: new Dictionary<string, object>(), denoisingStrength: request.DenoisingStrength ?? 0, inpaintingConditioning: false);
        return new A1111ImagesResult<A1111Txt2ImgResponse, A1111Txt2ImgRequest>(services.Store, outcome.Images, echo, info);
    }

    /// <summary>A1111 <c>img2img</c>: image-to-image, or inpainting with a mask.</summary>
    public static async Task<Results<A1111ImagesResult<A1111Img2ImgResponse, A1111Img2ImgRequest>, ValidationProblem, ProblemHttpResult>> Img2ImgAsync(
        A1111Img2ImgRequest request, ClaimsPrincipal user, [AsParameters] A1111Services services, CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(services);
        if (request.InitImages is not { Count: > 0 } || string.IsNullOrWhiteSpace(request.InitImages[0]))
        {
            return ApiProblems.Invalid("init_images", "Send the picture to repaint, base64, as init_images[0].");
        }
        var (picture, pictureProblem) = await ReadPictureAsync(services, "init_images", request.InitImages[0], aborted);
        if (pictureProblem is not null)
        {
            return pictureProblem;
        }
        GrayMask? mask = null;
        if (!string.IsNullOrWhiteSpace(request.Mask))
        {
            // As A1111's create_binary_mask: the alpha channel when the mask has transparency, else its grey levels.
            var (maskRead, maskProblem) = await ReadMaskAsync(services, request.Mask, aborted);
            if (maskProblem is not null)
            {
                return maskProblem;
            }
            mask = maskRead;
        }
        var onlyMasked = mask is not null && (request.InpaintFullRes ?? true);
        var problems = new List<(string, string)>();
        var fill = request.InpaintingFill ?? 0;
        if (fill is < 0 or > 3)
        {
            problems.Add(("inpainting_fill", $"inpainting_fill must be 0 (fill), 1 (original), 2 (latent noise) or 3 (latent nothing); it was {fill}."));
        }
        var blur = request.MaskBlur ?? 4;
        if (blur is < 0 or > GenerationLimits.MaxMaskBlur)
        {
            problems.Add(("mask_blur", $"mask_blur must be between 0 and {GenerationLimits.MaxMaskBlur}; it was {blur}."));
        }
        var padding = request.InpaintFullResPadding ?? 0;
        if (padding is < 0 or > GenerationLimits.MaxPadding)
        {
            problems.Add(("inpaint_full_res_padding", $"inpaint_full_res_padding must be between 0 and {GenerationLimits.MaxPadding}; it was {padding}."));
        }

        // Absent width/height: the picture's own size (fitted to the model) for the whole picture, the model's size for "only masked".
        (int Width, int Height)? defaultSize = null;
        if (!onlyMasked && await ModelForAsync(request, user, services, aborted) is { Traits: { } traits })
        {
            defaultSize = MaskFiles.WorkingSize(picture!.Width, picture.Height, Math.Max(traits.Defaults.Width, traits.Defaults.Height), traits.VaeScaleFactor);
        }
        var (prepared, invalid, refused) = await PrepareAsync(request, user, services, startsFromImage: true, defaultSize, aborted, problems);
        if (invalid is not null || refused is not null)
        {
            return invalid is not null ? invalid : refused!;
        }
        var run = prepared!;

        // A1111's resize mode 0 ("just resize"): the whole picture is worked at width × height; "only masked" keeps the picture's size.
        var source = onlyMasked ? picture! : ImageOps.Resize(picture!, run.Request.Width, run.Request.Height);
        byte[] maskPng = [];
        if (mask is not null)
        {
            mask = ImageOps.Resize(mask, source.Width, source.Height);
            if (request.InpaintingMaskInvert == true)
            {
                mask = mask.Invert();
            }
            if (mask.IsEmpty)
            {
                return ApiProblems.Invalid("mask", "The mask is empty: paint white where the picture should change.");
            }
            maskPng = MaskFiles.Encode(mask);
        }
        var content = fill switch
        {
            1 => MaskedContent.Original,
            2 or 3 => MaskedContent.LatentNoise, // "latent nothing" has no engine of its own: fresh noise is the nearest start
            _ => MaskedContent.Fill,
        };
        var outcome = await A1111Jobs.RunAsync(services, user, run.Request, run.TotalImages, (job, ct) =>
        {
            var inpaint = new InpaintJobRequest
            {
                Model = run.Model.Id,
                Request = job,
                UploadedSource = source,
                MaskPng = maskPng,
                MaskBlur = blur,
                MaskedContent = content,
                OnlyMasked = onlyMasked,
                Padding = padding,
            };
            return mask is null ? services.Generation.SubmitImageToImageAsync(user, inpaint, ct) : services.Generation.SubmitInpaintAsync(user, inpaint, ct);
        }, aborted);
        if (Ended(outcome, services.Log) is { } problem)
        {
            return problem;
        }
        var echo = (A1111Img2ImgRequest)Echo(request, run) with
        {
            InitImages = null,
            Mask = null,
            InpaintingFill = fill,
            InpaintFullRes = onlyMasked,
            InpaintFullResPadding = padding,
            MaskBlur = blur,
            InpaintingMaskInvert = request.InpaintingMaskInvert ?? false,
            DenoisingStrength = run.Request.Strength,
        };
        var extra = new Dictionary<string, object> { ["Denoising strength"] = run.Request.Strength };
        if (mask is not null)
        {
            extra["Mask blur"] = blur;
        }
        var info = Info(run, outcome, extra, run.Request.Strength, inpaintingConditioning: run.Model.Traits?.IsInpainting == true);
        return new A1111ImagesResult<A1111Img2ImgResponse, A1111Img2ImgRequest>(services.Store, outcome.Images, echo, info);
    }

    /// <summary>A1111 <c>progress</c> for the token's job: its running one, else its newest waiting one.</summary>
    public static async Task<Ok<A1111ProgressResponse>> ProgressAsync(
        ClaimsPrincipal user, [AsParameters] A1111Services services, CancellationToken cancellationToken,
        [FromQuery(Name = "skip_current_image")] bool? skipCurrentImage = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var active = await ActiveJobsAsync(user, services, cancellationToken);
        var job = active.Where(j => j.Status == JobStatus.Running).OrderByDescending(j => j.CreatedAt).FirstOrDefault()
            ?? active.OrderByDescending(j => j.CreatedAt).FirstOrDefault();
        if (job is null)
        {
            return TypedResults.Ok(new A1111ProgressResponse(0, 0, new A1111ProgressState(false, false, false, "", 0, "0", 0, 0, 0), null, null));
        }
        var standing = await services.Generation.StandingOfAsync(job.Id, cancellationToken);
        var running = job.Status == JobStatus.Running;
        var step = running ? standing?.Step ?? job.Step : 0;
        var total = standing?.TotalSteps ?? job.TotalSteps;
        var progress = total > 0 ? Math.Clamp((double)step / total, 0, 1) : 0;
        var preview = running && skipCurrentImage != true ? services.Lifecycle.LatestPreviewOf(job.Id) : null;
        var text = running
            ? $"Step {step} of {total}"
            : standing?.Position is { } position ? $"Waiting: {position} job{(position == 1 ? "" : "s")} ahead" : "Waiting";
        var state = new A1111ProgressState(false, job.CancelRequested, job.CancelRequested, job.Id.ToString("N", CultureInfo.InvariantCulture),
            active.Count, A1111Jobs.Timestamp(job.CreatedAt), 0, step, total);
        return TypedResults.Ok(new A1111ProgressResponse(progress, standing?.Eta?.TotalSeconds ?? 0, state,
            preview is null ? null : Convert.ToBase64String(preview), text));
    }

    /// <summary>A1111 <c>interrupt</c>: every waiting and running job of the token is cancelled (A1111 stops only its current one; a token here can have several).</summary>
    public static async Task<Ok<A1111InterruptResponse>> InterruptAsync(ClaimsPrincipal user, [AsParameters] A1111Services services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var stopped = new List<Guid>();
        foreach (var job in await ActiveJobsAsync(user, services, cancellationToken))
        {
            if (await services.Generation.CancelAsync(user, job.Id, cancellationToken) is CancelOutcome.Canceled or CancelOutcome.Stopping)
            {
                stopped.Add(job.Id);
            }
        }
        LogInterrupted(services.Log, stopped.Count);
        return TypedResults.Ok(new A1111InterruptResponse(stopped));
    }

    /// <summary>A1111 <c>sd-models</c>: the installed models that can run.</summary>
    public static Ok<IReadOnlyList<A1111SdModel>> SdModels(ModelHost models)
    {
        ArgumentNullException.ThrowIfNull(models);
        return TypedResults.Ok<IReadOnlyList<A1111SdModel>>([.. Available(models)
            .Select(m => new A1111SdModel(m.Id, m.Id, null, null, Path.GetFileName(m.Folder.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar)), null))]);
    }

    /// <summary>A1111 <c>samplers</c>.</summary>
    public static Ok<IReadOnlyList<A1111Sampler>> Samplers() => TypedResults.Ok(A1111Samplers.All);

    /// <summary>A1111 <c>options</c> (read): <c>sd_model_checkpoint</c> is the token's model, or the default one.</summary>
    public static async Task<Ok<A1111Options>> GetOptionsAsync(ClaimsPrincipal user, [AsParameters] A1111Services services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var model = await TokenModelAsync(user, services, cancellationToken);
        return TypedResults.Ok(new A1111Options(model?.Id, "Automatic", "png", 1, 0, true, true, true));
    }

    /// <summary>
    /// A1111 <c>options</c> (write): only <c>sd_model_checkpoint</c> is taken, for this token's later calls (null clears
    /// it); every other setting is ignored. Answers JSON <c>null</c>, as A1111 does.
    /// </summary>
    public static async Task<Results<ContentHttpResult, ValidationProblem>> SetOptionsAsync(
        Dictionary<string, JsonElement> settings, ClaimsPrincipal user, [AsParameters] A1111Services services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(services);
        if (settings.TryGetValue("sd_model_checkpoint", out var checkpoint))
        {
            string? modelId = null;
            if (checkpoint.ValueKind != JsonValueKind.Null)
            {
                var title = checkpoint.ValueKind == JsonValueKind.String ? checkpoint.GetString() : checkpoint.ToString();
                if (FindModel(services.Models, title) is not { } model)
                {
                    return ApiProblems.Invalid("sd_model_checkpoint", $"There is no model '{title}'. Models: {string.Join(", ", Available(services.Models).Select(m => m.Id))}.");
                }
                modelId = model.Id;
            }
            await services.Tokens.SelectModelAsync(user, modelId, cancellationToken);
        }
        var ignored = settings.Keys.Where(k => k != "sd_model_checkpoint").ToList();
        if (ignored.Count > 0)
        {
            LogIgnoredFields(services.Log, "options", string.Join(", ", ignored));
        }
        return TypedResults.Text("null", "application/json");
    }

    /// <summary>
    /// A1111 <c>png-info</c>: the text chunks only (no pixel is decoded), read through the intake under its limits.
    /// <c>info</c> is the <c>parameters</c> text; <c>items</c> the other text chunks, as A1111 answers.
    /// </summary>
    public static async Task<Results<Ok<A1111PngInfoResponse>, ValidationProblem>> PngInfoAsync(
        A1111PngInfoRequest request, ImageUploads uploads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(uploads);
        if (string.IsNullOrWhiteSpace(request.Image))
        {
            return TypedResults.Ok(new A1111PngInfoResponse("", new Dictionary<string, string>(), new Dictionary<string, string>()));
        }
        var (bytes, problem) = DecodeField("image", request.Image);
        if (problem is not null)
        {
            return problem;
        }
        else
        {
            var read = await uploads.ReadTextAsync("image", () => new MemoryStream(bytes.Array!, 0, bytes.Count, writable: false), cancellationToken);
            if (read.Texts is not { } texts)
            {
                return ApiProblems.Invalid("image", read.Refusal ?? "The picture could not be read.");
            }
            var parameters = texts.GetValueOrDefault(PngFiles.ParametersKeyword);
            var items = texts.Where(t => t.Key != PngFiles.ParametersKeyword).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
            return TypedResults.Ok(new A1111PngInfoResponse(parameters ?? "", items,
                parameters is null ? new Dictionary<string, string>() : ParseInfotext(parameters)));
        }
    }

    /// <summary>
    /// An infotext as A1111's <c>parse_generation_parameters</c> gives it: Prompt, Negative prompt, every setting
    /// (a size as Key-1 and Key-2), and "Clip skip" and "Schedule type" at their defaults when absent.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ParseInfotext(string text)
    {
        var parsed = GenerationParameters.Parse(text);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Prompt"] = parsed.Prompt,
            ["Negative prompt"] = parsed.NegativePrompt,
        };
        foreach (var (key, value) in parsed.Settings)
        {
            if (SizePattern().Match(value) is { Success: true } size)
            {
                fields[$"{key}-1"] = size.Groups[1].Value;
                fields[$"{key}-2"] = size.Groups[2].Value;
            }
            else
            {
                fields[key] = value;
            }
        }
        fields.TryAdd("Clip skip", "1");
        fields.TryAdd("Schedule type", "Automatic");
        return fields;
    }

    [GeneratedRegex(@"^(\d+)x(\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();

    /// <summary>A checked A1111 request: its model, the request of its first job, and how many images in all.</summary>
    private sealed record Prepared(ModelInfo Model, GenerationRequest Request, int TotalImages, int BatchSize, int NIter, long SeedSent);

    private static async Task<(Prepared? Prepared, ValidationProblem? Invalid, ProblemHttpResult? Refused)> PrepareAsync(
        A1111GenerationRequest request, ClaimsPrincipal user, A1111Services services, bool startsFromImage, (int Width, int Height)? defaultSize,
        CancellationToken cancellationToken, List<(string, string)>? earlier = null)
    {
        var problems = earlier ?? [];
        if (request.Unused is { Count: > 0 } unused)
        {
            LogIgnoredFields(services.Log, startsFromImage ? "img2img" : "txt2img", string.Join(", ", unused.Keys));
        }
        if (OverrideCheckpoint(request) is { } title && FindModel(services.Models, title) is null)
        {
            problems.Add(("override_settings.sd_model_checkpoint", $"There is no model '{title}'. Models: {string.Join(", ", Available(services.Models).Select(m => m.Id))}."));
        }
        if (await ModelForAsync(request, user, services, cancellationToken) is not { } model)
        {
            return problems.Count > 0 ? (null, ApiProblems.Invalid(problems), null) : (null, null, ApiProblems.Refused(["No model is installed."]));
        }
        var defaults = model.Traits?.Defaults ?? new ModelDefaults();
        var fallback = model.Traits?.IsLcm == true ? SchedulerKind.Lcm : defaults.Scheduler;
        var (scheduler, samplerProblem) = A1111Samplers.Resolve(request.SamplerName ?? request.SamplerIndex, request.Scheduler, fallback);
        if (samplerProblem is { } sampler)
        {
            problems.Add(sampler.Field == "sampler_name" && request.SamplerName is null ? ("sampler_index", sampler.Message) : sampler);
        }
        var seedSent = request.Seed ?? -1;
        if (seedSent < -1)
        {
            problems.Add(("seed", $"The seed must be -1 (random) or between 0 and {long.MaxValue}; it was {seedSent}."));
        }
        var batchSize = request.BatchSize ?? 1;
        var nIter = request.NIter ?? 1;
        if (nIter < 1 || (long)nIter * Math.Max(1, batchSize) > A1111Jobs.MaxImagesPerCall)
        {
            problems.Add(("n_iter", $"n_iter must be at least 1, and n_iter × batch_size at most {A1111Jobs.MaxImagesPerCall}; it was {nIter}."));
        }
        var generation = new GenerationRequest
        {
            Prompt = request.Prompt ?? "",
            NegativePrompt = request.NegativePrompt ?? "",
            Steps = request.Steps ?? defaults.Steps,
            GuidanceScale = request.CfgScale ?? defaults.Guidance,
            Width = request.Width ?? defaultSize?.Width ?? defaults.Width,
            Height = request.Height ?? defaultSize?.Height ?? defaults.Height,
            Seed = seedSent >= 0 ? (ulong)seedSent : Seeds.NewRandom(),
            BatchSize = batchSize,
            Scheduler = scheduler,
            Strength = request.DenoisingStrength ?? 0.75,
        };
        problems.AddRange(ApiProblems.Check(generation, ApiFieldNames.A1111, startsFromImage));
        if (generation.Width > 0 && generation.Height > 0 && batchSize > 0 && nIter > 0)
        {
            // Every image of a call is in its answer: bound the answer, not only the jobs.
            var pixels = (long)generation.Width * generation.Height;
            var cap = $"at most {A1111Jobs.MaxPixelsPerCall} pixels ({A1111Jobs.MaxPixelsPerCall / (1024 * 1024)} MP) per call";
            if (batchSize * pixels > A1111Jobs.MaxPixelsPerCall)
            {
                problems.Add(("batch_size", $"batch_size × width × height must be {cap}; it was {batchSize} × {generation.Width} × {generation.Height}."));
            }
            else if (nIter * batchSize * pixels > A1111Jobs.MaxPixelsPerCall)
            {
                problems.Add(("n_iter", $"n_iter × batch_size × width × height must be {cap}; it was {nIter} × {batchSize} × {generation.Width} × {generation.Height}."));
            }
        }
        if (problems.Count > 0)
        {
            return (null, ApiProblems.Invalid(problems), null);
        }
        return (new Prepared(model, generation, batchSize * nIter, batchSize, nIter, seedSent), null, null);
    }

    /// <summary>The request as A1111 echoes it: the values used where it left them out; the seed as sent.</summary>
    private static A1111GenerationRequest Echo(A1111GenerationRequest request, Prepared run)
    {
        var (sampler, schedule) = GenerationParameters.SplitSampler(SchedulerFactory.DisplayName(run.Request.Scheduler));
        return request with
        {
            Prompt = run.Request.Prompt,
            NegativePrompt = run.Request.NegativePrompt,
            Seed = run.SeedSent,
            Subseed = request.Subseed ?? -1,
            SamplerName = sampler,
            Scheduler = schedule,
            BatchSize = run.BatchSize,
            NIter = run.NIter,
            Steps = run.Request.Steps,
            CfgScale = run.Request.GuidanceScale,
            Width = run.Request.Width,
            Height = run.Request.Height,
        };
    }

    private static string Info(Prepared run, A1111RunOutcome outcome, Dictionary<string, object> extra, double? denoisingStrength, bool inpaintingConditioning)
    {
        var images = outcome.Images;
        var count = images.Count;
        var (sampler, _) = GenerationParameters.SplitSampler(SchedulerFactory.DisplayName(run.Request.Scheduler));
        var info = new A1111Info
        {
            Prompt = run.Request.Prompt,
            AllPrompts = [.. Enumerable.Repeat(run.Request.Prompt, count)],
            NegativePrompt = run.Request.NegativePrompt,
            AllNegativePrompts = [.. Enumerable.Repeat(run.Request.NegativePrompt, count)],
            Seed = count > 0 ? images[0].Seed : run.Request.Seed,
            AllSeeds = [.. images.Select(i => i.Seed)],
            AllSubseeds = [.. Enumerable.Repeat(-1L, count)],
            Width = count > 0 ? images[0].Width : run.Request.Width,
            Height = count > 0 ? images[0].Height : run.Request.Height,
            SamplerName = sampler,
            CfgScale = run.Request.GuidanceScale,
            Steps = run.Request.Steps,
            BatchSize = run.BatchSize,
            SdModelName = run.Model.Id,
            SdModelHash = count > 0 ? images[0].ModelHash : null,
            DenoisingStrength = denoisingStrength,
            ExtraGenerationParams = extra,
            Infotexts = [.. images.Select(i => i.Parameters)],
            JobTimestamp = A1111Jobs.Timestamp(outcome.FirstSubmittedAt),
            IsUsingInpaintingConditioning = inpaintingConditioning,
        };
        return JsonSerializer.Serialize(info);
    }

    /// <summary>The problem for a run that did not end well; null when its images (all, or those before an interrupt) are to be answered.</summary>
    private static ProblemHttpResult? Ended(A1111RunOutcome outcome, ILogger log)
    {
        if (outcome.Refusal is { } refusal)
        {
            return ApiProblems.Refused(refusal);
        }
        if (outcome.Failure is { } failure)
        {
            return TypedResults.Problem(detail: failure, statusCode: StatusCodes.Status500InternalServerError, title: "The job failed.");
        }
        if (outcome.Interrupted)
        {
            LogRunInterrupted(log, outcome.Images.Count);
        }
        return null;
    }

    /// <summary>
    /// The most characters a base64 picture may have: the intake's largest file as base64, and room for a
    /// <c>data:image/…;base64,</c> prefix and line breaks. Anything longer is refused before it is decoded.
    /// </summary>
    public static long MaxBase64Chars => (ImageUploads.Limits.MaxFileBytes + 2) / 3 * 4 * 77 / 76 + 256;

    private static async Task<(RgbImage? Image, ValidationProblem? Problem)> ReadPictureAsync(A1111Services services, string field, string base64, CancellationToken cancellationToken)
    {
        var (bytes, problem) = DecodeField(field, base64);
        if (problem is not null)
        {
            return (null, problem);
        }
        var read = await services.Uploads.ReadAsync(field, () => new MemoryStream(bytes.Array!, 0, bytes.Count, writable: false), cancellationToken);
        return read.Succeeded ? (read.Image, null) : (null, ApiProblems.Invalid(field, read.Refusal ?? "The picture could not be read."));
    }

    private static async Task<(GrayMask? Mask, ValidationProblem? Problem)> ReadMaskAsync(A1111Services services, string base64, CancellationToken cancellationToken)
    {
        const string field = "mask";
        var (bytes, problem) = DecodeField(field, base64);
        if (problem is not null)
        {
            return (null, problem);
        }
        var read = await services.Uploads.ReadMaskAsync(field, () => new MemoryStream(bytes.Array!, 0, bytes.Count, writable: false), cancellationToken);
        return read.Succeeded ? (read.Mask, null) : (null, ApiProblems.Invalid(field, read.Refusal ?? "The mask could not be read."));
    }

    /// <summary>The bytes of a base64 picture field, or a 400 naming it (too long, checked before decoding; or not base64).</summary>
    private static (ArraySegment<byte> Bytes, ValidationProblem? Problem) DecodeField(string field, string base64)
    {
        if (Base64Payload(field, base64) is { } tooLong)
        {
            return (default, tooLong);
        }
        return Base64Bytes(base64) is { } bytes
            ? (bytes, null)
            : (default, ApiProblems.Invalid(field, $"The {field} field is not valid base64 (a PNG, JPEG or WebP, or a data: URL of one)."));
    }

    /// <summary>A 400 naming <paramref name="field"/> when its base64 is longer than any picture the intake takes; checked before decoding.</summary>
    private static ValidationProblem? Base64Payload(string field, string text) =>
        text.Length > MaxBase64Chars
            ? ApiProblems.Invalid(field, $"{field} is {text.Length} characters of base64; the most accepted is {MaxBase64Chars} (a {ImageUploads.Limits.MaxFileBytes / (1024 * 1024)} MB file).")
            : null;

    /// <summary>Base64 (optionally a <c>data:…;base64,</c> URL) as bytes, or null when it is not base64. Check the length first.</summary>
    private static ArraySegment<byte>? Base64Bytes(string text)
    {
        var payload = text.AsSpan().Trim();
        if (payload.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var comma = payload.IndexOf(',');
            if (comma < 0 || !payload[..comma].EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
            payload = payload[(comma + 1)..];
        }
        var buffer = new byte[payload.Length * 3 / 4 + 3];
        return Convert.TryFromBase64Chars(payload, buffer, out var written) && written > 0 ? new ArraySegment<byte>(buffer, 0, written) : (ArraySegment<byte>?)null;
    }

    private static string? OverrideCheckpoint(A1111GenerationRequest request) =>
        request.OverrideSettings?.TryGetValue("sd_model_checkpoint", out var value) == true && value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: > 0 } title ? title : null;

    /// <summary>The model of a call: <c>override_settings.sd_model_checkpoint</c>, else the token's, else the default.</summary>
    private static async Task<ModelInfo?> ModelForAsync(A1111GenerationRequest request, ClaimsPrincipal user, A1111Services services, CancellationToken cancellationToken) =>
        FindModel(services.Models, OverrideCheckpoint(request)) ?? await TokenModelAsync(user, services, cancellationToken);

    /// <summary>The model the token selected (while it is installed), else the first installed one (as the Create page picks).</summary>
    private static async Task<ModelInfo?> TokenModelAsync(ClaimsPrincipal user, A1111Services services, CancellationToken cancellationToken) =>
        FindModel(services.Models, await services.Tokens.SelectedModelAsync(user, cancellationToken)) ?? Available(services.Models).FirstOrDefault();

    private static IEnumerable<ModelInfo> Available(ModelHost models) => models.Catalog.List().Where(m => m.IsAvailable && m.Traits is not null);

    /// <summary>An installed model by A1111 title: its id, optionally with a " [hash]" suffix or a checkpoint file extension.</summary>
    private static ModelInfo? FindModel(ModelHost models, string? title)
    {
        if (string.IsNullOrWhiteSpace(title))
        {
            return null;
        }
        var name = title.Trim();
        if (name.EndsWith(']') && name.LastIndexOf(" [", StringComparison.Ordinal) is > 0 and var bracket)
        {
            name = name[..bracket];
        }
        var available = Available(models).ToList();
        return available.FirstOrDefault(m => m.Id == name)
            ?? available.FirstOrDefault(m => string.Equals(m.Id, name, StringComparison.OrdinalIgnoreCase))
            ?? available.FirstOrDefault(m => string.Equals(m.Id, Path.GetFileNameWithoutExtension(name), StringComparison.OrdinalIgnoreCase));
    }

    private static async Task<List<Job>> ActiveJobsAsync(ClaimsPrincipal user, A1111Services services, CancellationToken cancellationToken)
    {
        if (ApiTokenClaims.TokenIdOf(user) is not { } tokenId)
        {
            return [];
        }
        await using var db = await services.DbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking()
            .Where(j => j.ApiTokenId == tokenId && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running))
            .ToListAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "A1111 {Route}: accepted and ignored {Fields}")]
    private static partial void LogIgnoredFields(ILogger logger, string route, string fields);

    [LoggerMessage(Level = LogLevel.Information, Message = "A1111 interrupt stopped {Count} jobs")]
    private static partial void LogInterrupted(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "An A1111 call was interrupted after {Count} images")]
    private static partial void LogRunInterrupted(ILogger logger, int count);
}

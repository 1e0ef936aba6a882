using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Api;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Api;

/// <summary>The AUTOMATIC1111 API over real HTTP with real generations of the embedded model (64×64, a few steps).</summary>
public sealed class A1111ApiTests(StudioAppFixture fixture) : IClassFixture<StudioAppFixture>
{
    private const string Model = "t2istudio-tiny";
    private static readonly string[] NotBase64 = ["%%%not base64%%%"];
    private readonly StudioAppFactory _app = fixture.Factory;

    [Fact]
    public async Task Txt2img_answers_A1111s_shape_and_png_info_reads_back_exactly_what_A1111_writes()
    {
        var (user, client) = await ClientAsync("round@a1111.test");

        var response = await client.PostAsJsonAsync("/sdapi/v1/txt2img", new Dictionary<string, object?>
        {
            ["prompt"] = "a red circle",
            ["negative_prompt"] = "blurry",
            ["seed"] = 42,
            ["subseed"] = -1,
            ["sampler_name"] = "Euler a",
            ["steps"] = 4,
            ["cfg_scale"] = 7,
            ["width"] = 64,
            ["height"] = 64,
            ["enable_hr"] = false,
            ["restore_faces"] = false,
            ["tiling"] = false,
            ["script_args"] = Array.Empty<object>(),
            ["alwayson_scripts"] = new Dictionary<string, object>(),
            ["send_images"] = true,
            ["save_images"] = false,
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var expected = "a red circle\nNegative prompt: blurry\n" +
            $"Steps: 4, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 42, Size: 64x64, Model hash: {ModelHash()}, Model: {Model}";

        var parameters = body.GetProperty("parameters");
        Assert.Equal("a red circle", parameters.GetProperty("prompt").GetString());
        Assert.Equal("blurry", parameters.GetProperty("negative_prompt").GetString());
        Assert.Equal(42, parameters.GetProperty("seed").GetInt64());
        Assert.Equal(4, parameters.GetProperty("steps").GetInt32());
        Assert.Equal("Euler a", parameters.GetProperty("sampler_name").GetString());
        Assert.Equal(64, parameters.GetProperty("width").GetInt32());
        Assert.False(parameters.GetProperty("enable_hr").GetBoolean());
        Assert.True(parameters.GetProperty("send_images").GetBoolean());

        var info = JsonDocument.Parse(body.GetProperty("info").GetString()!).RootElement;
        Assert.Equal(42UL, info.GetProperty("seed").GetUInt64());
        Assert.Equal([42UL], info.GetProperty("all_seeds").EnumerateArray().Select(s => s.GetUInt64()));
        Assert.Equal("Euler a", info.GetProperty("sampler_name").GetString());
        Assert.Equal(Model, info.GetProperty("sd_model_name").GetString());
        Assert.Equal(ModelHash(), info.GetProperty("sd_model_hash").GetString());
        Assert.Equal(expected, info.GetProperty("infotexts")[0].GetString());
        foreach (var key in new[] { "prompt", "all_prompts", "negative_prompt", "all_negative_prompts", "subseed", "all_subseeds", "width", "height",
            "cfg_scale", "steps", "batch_size", "restore_faces", "seed_resize_from_w", "seed_resize_from_h", "denoising_strength",
            "extra_generation_params", "index_of_first_image", "styles", "job_timestamp", "clip_skip", "is_using_inpainting_conditioning" })
        {
            Assert.True(info.TryGetProperty(key, out _), key);
        }

        var image = Assert.Single(body.GetProperty("images").EnumerateArray()).GetString()!;
        var pngInfo = await (await client.PostAsJsonAsync("/sdapi/v1/png-info", new { image })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(expected, pngInfo.GetProperty("info").GetString());
        // As A1111: items holds the other text chunks; parameters is only in info.
        var items = pngInfo.GetProperty("items");
        Assert.False(items.TryGetProperty("parameters", out _), items.ToString());
        Assert.All(items.EnumerateObject(), item => Assert.NotEqual(expected, item.Value.GetString()));
        var parsed = pngInfo.GetProperty("parameters");
        Assert.Equal("a red circle", parsed.GetProperty("Prompt").GetString());
        Assert.Equal("blurry", parsed.GetProperty("Negative prompt").GetString());
        Assert.Equal("4", parsed.GetProperty("Steps").GetString());
        Assert.Equal("Euler a", parsed.GetProperty("Sampler").GetString());
        Assert.Equal("Automatic", parsed.GetProperty("Schedule type").GetString());
        Assert.Equal("7", parsed.GetProperty("CFG scale").GetString());
        Assert.Equal("42", parsed.GetProperty("Seed").GetString());
        Assert.Equal("64", parsed.GetProperty("Size-1").GetString());
        Assert.Equal("64", parsed.GetProperty("Size-2").GetString());
        Assert.Equal(ModelHash(), parsed.GetProperty("Model hash").GetString());
        Assert.Equal(Model, parsed.GetProperty("Model").GetString());

        // The picture is the stored PNG of a job of this token, in the person's gallery.
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var stored = await db.Images.Include(i => i.Job).SingleAsync(i => i.OwnerId == user.Id);
        Assert.Equal(expected, stored.Parameters);
        Assert.NotNull(stored.Job!.ApiTokenId);
        Assert.Equal(Convert.FromBase64String(image), await File.ReadAllBytesAsync(_app.Services.GetRequiredService<T2IStudio.Web.Storage.ImageStore>().PathOf(stored.FileKey)));
    }

    [Fact]
    public async Task N_iter_times_batch_size_images_come_back_with_consecutive_seeds_matching_each_pictures_infotext()
    {
        var (_, client) = await ClientAsync("batch@a1111.test");

        var body = await PostOkAsync(client, "/sdapi/v1/txt2img",
            new { prompt = "a blue square", seed = 100, batch_size = 2, n_iter = 2, steps = 2, width = 64, height = 64, sampler_name = "DDIM" });

        var images = body.GetProperty("images").EnumerateArray().Select(i => i.GetString()!).ToList();
        Assert.Equal(4, images.Count);
        var info = JsonDocument.Parse(body.GetProperty("info").GetString()!).RootElement;
        Assert.Equal([100UL, 101UL, 102UL, 103UL], info.GetProperty("all_seeds").EnumerateArray().Select(s => s.GetUInt64()));
        for (var i = 0; i < images.Count; i++)
        {
            var pngInfo = await PostOkAsync(client, "/sdapi/v1/png-info", new { image = "data:image/png;base64," + images[i] });
            Assert.Equal((100 + i).ToString(System.Globalization.CultureInfo.InvariantCulture), pngInfo.GetProperty("parameters").GetProperty("Seed").GetString());
            Assert.Equal(info.GetProperty("infotexts")[i].GetString(), pngInfo.GetProperty("info").GetString());
        }
    }

    [Theory]
    [InlineData("DPM++ 2M Karras", null, SchedulerKind.DpmPlusPlus2MKarras)]
    [InlineData("DPM++ 2M", "Karras", SchedulerKind.DpmPlusPlus2MKarras)]
    [InlineData("DPM++ 2M Karras", "Automatic", SchedulerKind.DpmPlusPlus2MKarras)]
    [InlineData("DPM++ 2M", null, SchedulerKind.DpmPlusPlus2MKarras)]
    [InlineData("DPM++ 2M", "Automatic", SchedulerKind.DpmPlusPlus2MKarras)]
    [InlineData("DPM++ 2M", "Uniform", SchedulerKind.DpmPlusPlus2M)]
    [InlineData("k_dpmpp_2m", null, SchedulerKind.DpmPlusPlus2MKarras)]
    [InlineData("Euler a", null, SchedulerKind.EulerAncestral)]
    [InlineData("k_euler_a", null, SchedulerKind.EulerAncestral)]
    [InlineData("Euler", null, SchedulerKind.Euler)]
    [InlineData("DDIM", null, SchedulerKind.Ddim)]
    [InlineData("PLMS", null, SchedulerKind.Plms)]
    [InlineData("LCM", null, SchedulerKind.Lcm)]
    public void A1111_sampler_names_map_to_the_schedulers(string name, string? scheduler, SchedulerKind expected)
    {
        var (kind, problem) = A1111Samplers.Resolve(name, scheduler, SchedulerKind.Euler);
        Assert.Null(problem);
        Assert.Equal(expected, kind);
    }

    [Fact]
    public async Task Samplers_lists_A1111_1_9_names_and_a_plain_dpm_2m_request_runs_its_default_karras_schedule()
    {
        var (user, client) = await ClientAsync("sampler@a1111.test");
        var samplers = await client.GetFromJsonAsync<JsonElement>(new Uri("/sdapi/v1/samplers", UriKind.Relative));
        Assert.Equal(["DPM++ 2M", "Euler a", "Euler", "DDIM", "PLMS", "LCM"],
            samplers.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("karras", samplers[0].GetProperty("options").GetProperty("scheduler").GetString());

        // A1111 1.9+: scheduler absent is "Automatic", the sampler's default schedule, which for DPM++ 2M is Karras.
        var body = await PostOkAsync(client, "/sdapi/v1/txt2img",
            new { prompt = "a green circle", seed = 3, steps = 2, width = 64, height = 64, sampler_name = "DPM++ 2M" });

        var info = JsonDocument.Parse(body.GetProperty("info").GetString()!).RootElement;
        Assert.Contains("Sampler: DPM++ 2M, Schedule type: Karras, CFG scale:", info.GetProperty("infotexts")[0].GetString(), StringComparison.Ordinal);
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var job = await db.Jobs.SingleAsync(j => j.OwnerId == user.Id);
        Assert.Equal(SchedulerKind.DpmPlusPlus2MKarras, GenerationMetadata.ReadStoredRequest(job.RequestJson)!.Scheduler);
    }

    [Fact]
    public async Task Bad_fields_answer_400_naming_the_A1111_field()
    {
        var (user, client) = await ClientAsync("invalid@a1111.test");

        await AssertInvalidAsync(client, "/sdapi/v1/txt2img", new { prompt = "x", sampler_name = "Heun++ 9000" }, "sampler_name");
        await AssertInvalidAsync(client, "/sdapi/v1/txt2img", new { prompt = "x", steps = 500 }, "steps");
        await AssertInvalidAsync(client, "/sdapi/v1/txt2img", new { prompt = "x", width = 65 }, "width");
        await AssertInvalidAsync(client, "/sdapi/v1/txt2img", new { prompt = "x", cfg_scale = 99 }, "cfg_scale");
        await AssertInvalidAsync(client, "/sdapi/v1/txt2img", new { prompt = "x", sampler_name = "Euler a", scheduler = "Karras" }, "scheduler");
        await AssertInvalidAsync(client, "/sdapi/v1/txt2img",
            new { prompt = "x", override_settings = new { sd_model_checkpoint = "no-such-model.safetensors" } }, "override_settings.sd_model_checkpoint");
        await AssertInvalidAsync(client, "/sdapi/v1/img2img", new { prompt = "x", init_images = NotBase64 }, "init_images");
        await AssertInvalidAsync(client, "/sdapi/v1/img2img", new { prompt = "x", init_images = new[] { Convert.ToBase64String("not a picture at all"u8.ToArray()) } }, "init_images");
        await AssertInvalidAsync(client, "/sdapi/v1/img2img",
            new { prompt = "x", init_images = new[] { Convert.ToBase64String(SourcePng()) }, mask = "@@@" }, "mask");
        await AssertInvalidAsync(client, "/sdapi/v1/img2img",
            new { prompt = "x", init_images = new[] { Convert.ToBase64String(SourcePng()) }, mask = Convert.ToBase64String(MaskPng(0, 0)) }, "mask");
        await AssertInvalidAsync(client, "/sdapi/v1/png-info", new { image = Convert.ToBase64String("GIF89a garbage"u8.ToArray()) }, "image");
        await AssertInvalidAsync(client, "/sdapi/v1/png-info", new { image = "!!" }, "image");
        await AssertInvalidAsync(client, "/sdapi/v1/txt2img", new { prompt = "x", n_iter = 0 }, "n_iter");

        // Longer than any file the intake takes: refused before it is decoded, saying the limit.
        var tooLong = new string('A', (int)A1111Endpoints.MaxBase64Chars + 1);
        Assert.Contains("characters of base64", await AssertInvalidAsync(client, "/sdapi/v1/img2img", new { prompt = "x", init_images = new[] { tooLong } }, "init_images"), StringComparison.Ordinal);
        Assert.Contains("characters of base64", await AssertInvalidAsync(client, "/sdapi/v1/img2img",
            new { prompt = "x", init_images = new[] { Convert.ToBase64String(SourcePng()) }, mask = tooLong }, "mask"), StringComparison.Ordinal);
        Assert.Contains("characters of base64", await AssertInvalidAsync(client, "/sdapi/v1/png-info", new { image = "data:image/png;base64," + tooLong }, "image"), StringComparison.Ordinal);

        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.False(await db.Jobs.AnyAsync(j => j.OwnerId == user.Id));
    }

    [Fact]
    public async Task Options_write_selects_a_known_model_for_the_token_and_refuses_an_unknown_one()
    {
        var (user, client) = await ClientAsync("options@a1111.test");
        var options = await client.GetFromJsonAsync<JsonElement>(new Uri("/sdapi/v1/options", UriKind.Relative));
        Assert.Equal(Model, options.GetProperty("sd_model_checkpoint").GetString());
        Assert.Equal("png", options.GetProperty("samples_format").GetString());
        var models = await client.GetFromJsonAsync<JsonElement>(new Uri("/sdapi/v1/sd-models", UriKind.Relative));
        Assert.Contains(models.EnumerateArray(), m => m.GetProperty("title").GetString() == Model && m.GetProperty("model_name").GetString() == Model);

        await AssertInvalidAsync(client, "/sdapi/v1/options", new { sd_model_checkpoint = "no-such-model" }, "sd_model_checkpoint");

        var written = await client.PostAsJsonAsync("/sdapi/v1/options", new Dictionary<string, object> { ["sd_model_checkpoint"] = $"{Model} [0123456789]", ["CLIP_stop_at_last_layers"] = 2 });
        Assert.Equal(HttpStatusCode.OK, written.StatusCode);
        Assert.Equal("null", await written.Content.ReadAsStringAsync());
        Assert.Equal(Model, (await client.GetFromJsonAsync<JsonElement>(new Uri("/sdapi/v1/options", UriKind.Relative))).GetProperty("sd_model_checkpoint").GetString());
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal(Model, (await db.ApiTokens.SingleAsync(t => t.OwnerId == user.Id)).Model);
    }

    [Fact]
    public async Task The_api_document_shows_the_streamed_image_answers_as_their_response_records()
    {
        var (_, client) = await ClientAsync("document@a1111.test");
        var document = JsonDocument.Parse(await client.GetStringAsync(new Uri(ApiDocuments.DocumentUrl, UriKind.Relative))).RootElement;

        foreach (var (route, schema) in new[] { ("/sdapi/v1/txt2img", "A1111Txt2ImgResponse"), ("/sdapi/v1/img2img", "A1111Img2ImgResponse") })
        {
            var ok = document.GetProperty("paths").GetProperty(route).GetProperty("post").GetProperty("responses").GetProperty("200");
            Assert.EndsWith("/" + schema, ok.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString(), StringComparison.Ordinal);
        }
        Assert.True(document.GetProperty("components").GetProperty("schemas").GetProperty("A1111Txt2ImgResponse").GetProperty("properties").TryGetProperty("images", out _));
    }

    [Fact]
    public async Task A_read_token_gets_403_on_the_routes_that_generate_or_change()
    {
        var user = await _app.CreateUserAsync("reader@a1111.test");
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user, ApiTokenScope.Read));

        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/sdapi/v1/txt2img", new { prompt = "x", steps = 2, width = 64, height = 64 })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/sdapi/v1/img2img", new { prompt = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync(new Uri("/sdapi/v1/interrupt", UriKind.Relative), null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/sdapi/v1/options", new { sd_model_checkpoint = Model })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/sdapi/v1/options", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/sdapi/v1/progress", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Img2img_inpaint_keeps_every_pixel_beyond_the_feathered_mask_and_repaints_inside()
    {
        var (_, client) = await ClientAsync("inpaint@a1111.test");
        const int blur = 2, from = 24, to = 40;

        var body = await PostOkAsync(client, "/sdapi/v1/img2img", new
        {
            prompt = "a yellow square",
            init_images = new[] { "data:image/png;base64," + Convert.ToBase64String(SourcePng()) },
            mask = Convert.ToBase64String(MaskPng(from, to)),
            inpainting_fill = 1,
            inpaint_full_res = 0,
            mask_blur = blur,
            denoising_strength = 1.0,
            steps = 2,
            seed = 5,
            width = 64,
            height = 64,
            sampler_name = "Euler a",
            resize_mode = 0,
            include_init_images = false,
        });

        var result = PngFiles.Decode(new MemoryStream(Convert.FromBase64String(Assert.Single(body.GetProperty("images").EnumerateArray()).GetString()!)));
        var source = Source();
        Assert.Equal((64, 64), (result.Width, result.Height));
        var changedInside = false;
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                var distance = Math.Max(Math.Max(from - x, x - (to - 1)), Math.Max(from - y, y - (to - 1)));
                var at = (y * 64 + x) * 3;
                var same = result.Pixels.AsSpan(at, 3).SequenceEqual(source.Pixels.AsSpan(at, 3));
                if (distance > 3 * blur)
                {
                    Assert.True(same, $"pixel ({x}, {y}) outside the mask changed");
                }
                changedInside |= distance < 0 && !same;
            }
        }
        Assert.True(changedInside, "nothing inside the mask was repainted");
        var info = JsonDocument.Parse(body.GetProperty("info").GetString()!).RootElement;
        Assert.EndsWith("Denoising strength: 1, Mask blur: 2", info.GetProperty("infotexts")[0].GetString(), StringComparison.Ordinal);
        var parameters = body.GetProperty("parameters");
        Assert.Equal(JsonValueKind.Null, parameters.GetProperty("init_images").ValueKind);
        Assert.False(parameters.GetProperty("inpaint_full_res").GetBoolean());
    }

    [Fact]
    public async Task Img2img_reads_a_mask_drawn_only_in_alpha_as_A1111_does_transparent_keeps()
    {
        var (_, client) = await ClientAsync("alpha@a1111.test");
        const int from = 24, to = 40;

        var body = await PostOkAsync(client, "/sdapi/v1/img2img", new
        {
            prompt = "a yellow square",
            init_images = new[] { Convert.ToBase64String(SourcePng()) },
            mask = Convert.ToBase64String(AlphaMaskPng(from, to)),
            inpainting_fill = 1,
            inpaint_full_res = false,
            mask_blur = 0,
            denoising_strength = 1.0,
            steps = 2,
            seed = 6,
            width = 64,
            height = 64,
        });

        var result = PngFiles.Decode(new MemoryStream(Convert.FromBase64String(Assert.Single(body.GetProperty("images").EnumerateArray()).GetString()!)));
        var source = Source();
        var changedInside = false;
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                var at = (y * 64 + x) * 3;
                var same = result.Pixels.AsSpan(at, 3).SequenceEqual(source.Pixels.AsSpan(at, 3));
                var inside = x >= from && x < to && y >= from && y < to;
                if (!inside)
                {
                    Assert.True(same, $"pixel ({x}, {y}) outside the mask changed");
                }
                changedInside |= inside && !same;
            }
        }
        Assert.True(changedInside, "nothing inside the mask was repainted");
    }

    [Fact]
    public void The_mask_intake_thresholds_alpha_above_128_when_there_is_transparency_and_reads_grey_levels_otherwise()
    {
        using var alpha = new Image<Rgba32>(4, 1);
        alpha[0, 0] = new Rgba32(255, 255, 255, 0);   // white but transparent: kept
        alpha[1, 0] = new Rgba32(0, 0, 0, 128);       // half: kept (A1111: above 128 repaints)
        alpha[2, 0] = new Rgba32(0, 0, 0, 129);       // black but opaque enough: repainted
        alpha[3, 0] = new Rgba32(0, 0, 0, 255);
        var fromAlpha = ImageIntake.ReadMask(Png(alpha));
        Assert.True(fromAlpha.FromAlpha);
        Assert.Equal([0, 0, 255, 255], fromAlpha.Mask.Values);

        using var opaque = new Image<Rgba32>(3, 1);
        opaque[0, 0] = new Rgba32(255, 255, 255, 255);
        opaque[1, 0] = new Rgba32(100, 100, 100, 255);
        opaque[2, 0] = new Rgba32(0, 0, 0, 255);
        var grey = ImageIntake.ReadMask(Png(opaque));
        Assert.False(grey.FromAlpha);
        Assert.Equal([255, 100, 0], grey.Mask.Values);

        Assert.Throws<ImageRefusedException>(() => ImageIntake.ReadMask("GIF89a not a mask"u8));
    }

    [Fact]
    public async Task Img2img_only_masked_keeps_the_pictures_size_and_every_pixel_outside_the_padded_area()
    {
        var (_, client) = await ClientAsync("onlymasked@a1111.test");
        const int from = 28, to = 36, padding = 4;

        // inpaint_full_res is left out: A1111's default is "only masked".
        var body = await PostOkAsync(client, "/sdapi/v1/img2img", new
        {
            prompt = "a blue circle",
            init_images = new[] { Convert.ToBase64String(SourcePng()) },
            mask = Convert.ToBase64String(MaskPng(from, to)),
            inpaint_full_res_padding = padding,
            mask_blur = 0,
            inpainting_fill = 2,
            steps = 2,
            seed = 8,
            width = 32,
            height = 32,
        });

        var result = PngFiles.Decode(new MemoryStream(Convert.FromBase64String(Assert.Single(body.GetProperty("images").EnumerateArray()).GetString()!)));
        Assert.Equal((64, 64), (result.Width, result.Height));
        var source = Source();
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                if (x < from || x >= to || y < from || y >= to)
                {
                    var at = (y * 64 + x) * 3;
                    Assert.True(result.Pixels.AsSpan(at, 3).SequenceEqual(source.Pixels.AsSpan(at, 3)), $"pixel ({x}, {y}) outside the mask changed");
                }
            }
        }
        Assert.True(body.GetProperty("parameters").GetProperty("inpaint_full_res").GetBoolean());
    }

    [Fact]
    public async Task Img2img_without_a_mask_repaints_the_picture_resized_to_width_and_height()
    {
        var (_, client) = await ClientAsync("img2img@a1111.test");

        var body = await PostOkAsync(client, "/sdapi/v1/img2img", new
        {
            prompt = "a red circle",
            init_images = new[] { Convert.ToBase64String(SourcePng()) },
            denoising_strength = 0.5,
            steps = 2,
            seed = 11,
            width = 32,
            height = 48,
        });

        var result = PngFiles.Decode(new MemoryStream(Convert.FromBase64String(Assert.Single(body.GetProperty("images").EnumerateArray()).GetString()!)));
        Assert.Equal((32, 48), (result.Width, result.Height));
        var info = JsonDocument.Parse(body.GetProperty("info").GetString()!).RootElement;
        Assert.Equal(0.5, info.GetProperty("denoising_strength").GetDouble());
        Assert.Equal([11UL], info.GetProperty("all_seeds").EnumerateArray().Select(s => s.GetUInt64()));
    }

    private async Task<(AppUser User, HttpClient Client)> ClientAsync(string email)
    {
        var user = await _app.CreateUserAsync(email);
        return (user, _app.CreateApiClient(await _app.CreateTokenAsync(user)));
    }

    private static async Task<JsonElement> PostOkAsync(HttpClient client, string route, object body)
    {
        var response = await client.PostAsJsonAsync(route, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>Asserts a 400 problem naming <paramref name="field"/>; its first message.</summary>
    private static async Task<string> AssertInvalidAsync(HttpClient client, string route, object body, string field)
    {
        var response = await client.PostAsJsonAsync(route, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{route} {field}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out var messages), $"{field} not named: {text}");
        return messages[0].GetString()!;
    }

    private string ModelHash()
    {
        var folder = _app.Services.GetRequiredService<ModelHost>().Catalog.Find(Model)!.Folder;
        using var unet = File.OpenRead(Path.Combine(folder, "unet", "model.onnx"));
        return Convert.ToHexStringLower(SHA256.HashData(unet))[..10];
    }

    private static RgbImage Source()
    {
        var pixels = new byte[64 * 64 * 3];
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                var at = (y * 64 + x) * 3;
                (pixels[at], pixels[at + 1], pixels[at + 2]) = ((byte)(x * 4), (byte)(y * 4), (byte)((x * 7 + y * 13) % 256));
            }
        }
        return new RgbImage(64, 64, pixels);
    }

    private static byte[] SourcePng() => PngFiles.Encode(Source(), null, null);

    /// <summary>A mask as A1111's canvas sends it: black everywhere, opaque where to repaint and transparent elsewhere.</summary>
    private static byte[] AlphaMaskPng(int from, int to)
    {
        using var image = new Image<Rgba32>(64, 64, new Rgba32(0, 0, 0, 0));
        for (var y = from; y < to; y++)
        {
            for (var x = from; x < to; x++)
            {
                image[x, y] = new Rgba32(0, 0, 0, 255);
            }
        }
        return Png(image);
    }

    private static byte[] Png(Image<Rgba32> image)
    {
        using var stream = new MemoryStream();
        image.SaveAsPng(stream, new PngEncoder { ColorType = PngColorType.RgbWithAlpha });
        return stream.ToArray();
    }

    private static byte[] MaskPng(int from, int to)
    {
        var pixels = new byte[64 * 64 * 3];
        for (var y = from; y < to; y++)
        {
            for (var x = from; x < to; x++)
            {
                pixels.AsSpan((y * 64 + x) * 3, 3).Fill(255);
            }
        }
        return PngFiles.Encode(new RgbImage(64, 64, pixels), null, null);
    }
}

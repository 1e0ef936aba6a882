using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Images;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;

namespace T2IStudio.Web.Tests.Api;

/// <summary>The job half of <c>/api/v1</c> over real HTTP with tokens, on the embedded model (the worker runs).</summary>
public sealed class ApiV1JobsTests(StudioAppFixture fixture) : IClassFixture<StudioAppFixture>
{
    private const int Side = 64;
    private readonly StudioAppFactory _app = fixture.Factory;

    internal static object Tiny(string prompt = "a red circle", int steps = 2, int size = Side, ulong seed = 7) =>
        new { model = "t2istudio-tiny", prompt, steps, width = size, height = size, seed, guidance = 4, scheduler = "Ddim" };

    internal static async Task<HttpResponseMessage> SubmitAsync(HttpClient client, object body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs/txt2img") { Content = JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        return await client.SendAsync(request);
    }

    internal static async Task<JsonElement> JsonOf(HttpResponseMessage response)
    {
        await response.Content.LoadIntoBufferAsync(); // the string comes from the buffer, so a body can be read more than once
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    internal static async Task<Guid> AcceptedIdAsync(HttpResponseMessage response)
    {
        await response.Content.LoadIntoBufferAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var id = (await JsonOf(response)).GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/jobs/{id}", response.Headers.Location?.OriginalString);
        return id;
    }

    /// <summary>The field names of a 400 problem's <c>errors</c>.</summary>
    internal static async Task<IReadOnlyList<string>> ErrorFieldsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return [.. (await JsonOf(response)).GetProperty("errors").EnumerateObject().Select(p => p.Name)];
    }

    private async Task<(AppUser User, HttpClient Client)> SignUpAsync(string email, ApiTokenScope scope = ApiTokenScope.ReadAndGenerate)
    {
        var user = await _app.CreateUserAsync(email);
        return (user, _app.CreateApiClient(await _app.CreateTokenAsync(user, scope)));
    }

    [Fact]
    public async Task Txt2img_takes_a_hires_fix_whose_job_is_the_larger_size_and_refuses_a_bad_one_with_its_reason()
    {
        var account = await SignUpAsync("hires@jobs.test");
        using var client = account.Client;

        var response = await SubmitAsync(client, new { model = "t2istudio-tiny", prompt = "a red circle", steps = 2, width = Side, height = Side, seed = 7, scheduler = "Ddim", hires = new { scale = 2, strength = 0.5 } });
        await AcceptedIdAsync(response);
        var accepted = await JsonOf(response);
        Assert.Equal((2 * Side, 2 * Side), (accepted.GetProperty("width").GetInt32(), accepted.GetProperty("height").GetInt32()));

        var refused = await SubmitAsync(client, new { model = "t2istudio-tiny", prompt = "a red circle", steps = 2, width = Side, height = Side, hires = new { scale = 5, strength = 0.5 } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Hires fix: Upscale by must be more than 1 and at most 4.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Txt2img_is_accepted_with_a_location_then_reads_as_completed_with_its_image_ids_and_png_links()
    {
        var account = await SignUpAsync("txt2img@jobs.test");
        using var client = account.Client;
        var user = account.User;
        using var waiter = new JobWaiter(_app.Services, user.Id);

        var response = await SubmitAsync(client, Tiny("a green square"));
        var id = await AcceptedIdAsync(response);
        var accepted = await JsonOf(response);
        var status = accepted.GetProperty("status").GetString();
        Assert.True(status is "Queued" or "Running" or "Completed", status); // the worker may be quick
        Assert.Equal("a green square", accepted.GetProperty("prompt").GetString());
        Assert.Equal((Side, Side, 1, 2), (accepted.GetProperty("width").GetInt32(), accepted.GetProperty("height").GetInt32(),
            accepted.GetProperty("batchSize").GetInt32(), accepted.GetProperty("totalSteps").GetInt32()));
        var completed = await waiter.WaitForAsync<JobCompleted>(id);

        var job = await client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/jobs/{id}", UriKind.Relative));
        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Assert.Equal("t2istudio-tiny", job.GetProperty("model").GetString());
        Assert.Equal(2, job.GetProperty("step").GetInt32());
        Assert.True(job.GetProperty("finishedAt").ValueKind == JsonValueKind.String);
        Assert.Equal(completed.ImageIds, job.GetProperty("imageIds").EnumerateArray().Select(i => i.GetGuid()));
        Assert.Equal(completed.ImageIds.Select(i => $"/api/v1/images/{i}/png"), job.GetProperty("links").GetProperty("images").EnumerateArray().Select(i => i.GetString()));

        var mine = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/jobs", UriKind.Relative));
        Assert.Contains(id, mine.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task The_models_list_names_the_embedded_model_with_its_schedulers_and_default_size()
    {
        var account = await SignUpAsync("models@jobs.test", ApiTokenScope.Read);
        using var client = account.Client;

        var models = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/models", UriKind.Relative));

        var tiny = models.EnumerateArray().Single(m => m.GetProperty("id").GetString() == "t2istudio-tiny");
        Assert.True(tiny.GetProperty("available").GetBoolean());
        Assert.Contains("Ddim", tiny.GetProperty("schedulers").EnumerateArray().Select(s => s.GetString()));
        Assert.True(tiny.GetProperty("defaultWidth").GetInt32() > 0);
    }

    [Fact]
    public async Task A_repeated_idempotency_key_returns_the_same_job_and_a_key_over_64_characters_is_a_400_naming_the_header()
    {
        var account = await SignUpAsync("idempotent@jobs.test");
        using var client = account.Client;

        var first = await AcceptedIdAsync(await SubmitAsync(client, Tiny(), key: "press-1"));
        var again = await AcceptedIdAsync(await SubmitAsync(client, Tiny(), key: "press-1"));
        var other = await AcceptedIdAsync(await SubmitAsync(client, Tiny(), key: "press-2"));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(["Idempotency-Key"], await ErrorFieldsAsync(await SubmitAsync(client, Tiny(), key: new string('k', 65))));
    }

    [Fact]
    public async Task Values_beyond_the_limits_an_unknown_model_and_a_bad_scheduler_are_400_problems_naming_the_field()
    {
        var account = await SignUpAsync("limits@jobs.test");
        using var client = account.Client;

        Assert.Equal(["steps"], await ErrorFieldsAsync(await SubmitAsync(client, new { model = "t2istudio-tiny", prompt = "x", steps = 500, width = Side, height = Side })));
        Assert.Equal(["width"], await ErrorFieldsAsync(await SubmitAsync(client, new { model = "t2istudio-tiny", prompt = "x", steps = 2, width = 5000, height = Side })));
        Assert.Equal(["model"], await ErrorFieldsAsync(await SubmitAsync(client, new { model = "no-such-model", prompt = "x", steps = 2, width = Side, height = Side })));
        Assert.Equal(["scheduler"], await ErrorFieldsAsync(await SubmitAsync(client, new { model = "t2istudio-tiny", prompt = "x", steps = 2, width = Side, height = Side, scheduler = "Warp9" })));
        var problem = await JsonOf(await SubmitAsync(client, new { model = "t2istudio-tiny", prompt = "x", steps = 500, width = Side, height = Side }));
        Assert.Contains("150", problem.GetProperty("errors").GetProperty("steps")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_read_token_gets_403_on_submit_and_cancel()
    {
        var account = await SignUpAsync("reader@jobs.test", ApiTokenScope.Read);
        using var client = account.Client;

        Assert.Equal(HttpStatusCode.Forbidden, (await SubmitAsync(client, Tiny())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync(new Uri($"/api/v1/jobs/{Guid.NewGuid()}/cancel", UriKind.Relative), null)).StatusCode);
    }

    [Fact]
    public async Task Someone_elses_job_is_404_on_get_cancel_and_events_exactly_like_a_made_up_id()
    {
        var aliceAccount = await SignUpAsync("alice@jobs.test");
        using var aliceClient = aliceAccount.Client;
        var alice = aliceAccount.User;
        var bobAccount = await SignUpAsync("bob@jobs.test");
        using var bobClient = bobAccount.Client;
        using var waiter = new JobWaiter(_app.Services, alice.Id);
        var id = await AcceptedIdAsync(await SubmitAsync(aliceClient, Tiny()));
        await waiter.WaitForAsync<JobCompleted>(id);

        foreach (var jobId in new[] { id, Guid.NewGuid() })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await bobClient.GetAsync(new Uri($"/api/v1/jobs/{jobId}", UriKind.Relative))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await bobClient.PostAsync(new Uri($"/api/v1/jobs/{jobId}/cancel", UriKind.Relative), null)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await bobClient.GetAsync(new Uri($"/api/v1/jobs/{jobId}/events", UriKind.Relative))).StatusCode);
        }
        Assert.DoesNotContain(id, (await bobClient.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/jobs", UriKind.Relative)))
            .GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()));
        Assert.Equal(HttpStatusCode.OK, (await aliceClient.GetAsync(new Uri($"/api/v1/jobs/{id}", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Img2img_from_one_of_your_images_and_inpaint_of_an_upload_round_trip_and_inpaint_keeps_unmasked_pixels_exactly()
    {
        var account = await SignUpAsync("img2img@jobs.test");
        using var client = account.Client;
        var user = account.User;
        using var waiter = new JobWaiter(_app.Services, user.Id);
        var sourceId = (await waiter.WaitForAsync<JobCompleted>(await AcceptedIdAsync(await SubmitAsync(client, Tiny("a blue square", steps: 3))))).ImageIds.Single();

        using (var form = new MultipartFormDataContent())
        {
            form.Add(new StringContent(sourceId.ToString()), "sourceImageId");
            form.Add(new StringContent("a blue square, brighter"), "prompt");
            form.Add(new StringContent("2"), "steps");
            form.Add(new StringContent("0.5"), "strength");
            form.Add(new StringContent("Ddim"), "scheduler");
            var img2img = await AcceptedIdAsync(await client.PostAsync(new Uri("/api/v1/jobs/img2img", UriKind.Relative), form));
            var child = (await waiter.WaitForAsync<JobCompleted>(img2img)).ImageIds.Single();
            var job = await client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/jobs/{img2img}", UriKind.Relative));
            Assert.Equal((Side, Side), (job.GetProperty("width").GetInt32(), job.GetProperty("height").GetInt32()));
            Assert.NotEqual(sourceId, child);
        }

        var sourcePng = await StoredPngAsync(user, sourceId);
        using (var form = new MultipartFormDataContent())
        {
            form.Add(File(sourcePng, "source.png"), "image", "source.png");
            form.Add(File(BandMask(), "mask.png"), "mask", "mask.png");
            form.Add(new StringContent("a red band"), "prompt");
            form.Add(new StringContent("3"), "steps");
            form.Add(new StringContent("0.9"), "strength");
            form.Add(new StringContent("2"), "maskBlur");
            form.Add(new StringContent("Ddim"), "scheduler");
            form.Add(new StringContent("3"), "seed");
            var inpaint = await AcceptedIdAsync(await client.PostAsync(new Uri("/api/v1/jobs/inpaint", UriKind.Relative), form));
            var child = (await waiter.WaitForAsync<JobCompleted>(inpaint)).ImageIds.Single();

            var before = Decode(sourcePng);
            var after = Decode(await StoredPngAsync(user, child));
            Assert.Equal((Side, Side), (after.Width, after.Height));
            // Blur 2 reaches 3 × 2 = 6 rows past the band (22–41); every byte outside is the source's.
            for (var y = 0; y < Side; y++)
            {
                if (y is >= 22 and <= 41)
                {
                    continue;
                }
                Assert.True(before.Pixels.AsSpan(y * Side * 3, Side * 3).SequenceEqual(after.Pixels.AsSpan(y * Side * 3, Side * 3)), $"row {y} changed");
            }
        }
    }

    [Fact]
    public async Task An_upload_that_is_not_an_image_is_a_400_naming_image_and_someone_elses_source_a_400_naming_sourceImageId()
    {
        var account = await SignUpAsync("upload@jobs.test");
        using var client = account.Client;
        var ownerAccount = await SignUpAsync("owner@jobs.test");
        using var ownerClient = ownerAccount.Client;
        var owner = ownerAccount.User;

        using (var form = new MultipartFormDataContent())
        {
            form.Add(File("this is not a picture"u8.ToArray(), "notes.png"), "image", "notes.png");
            form.Add(new StringContent("x"), "prompt");
            Assert.Equal(["image"], await ErrorFieldsAsync(await client.PostAsync(new Uri("/api/v1/jobs/img2img", UriKind.Relative), form)));
        }
        using (var form = new MultipartFormDataContent())
        {
            form.Add(File(PngFiles.Encode(RgbImage.Filled(Side, Side, 10, 20, 30), null, null), "ok.png"), "image", "ok.png");
            form.Add(File("nope"u8.ToArray(), "mask.png"), "mask", "mask.png");
            form.Add(new StringContent("x"), "prompt");
            Assert.Equal(["mask"], await ErrorFieldsAsync(await client.PostAsync(new Uri("/api/v1/jobs/inpaint", UriKind.Relative), form)));
        }

        using var waiter = new JobWaiter(_app.Services, owner.Id);
        var ownersImage = (await waiter.WaitForAsync<JobCompleted>(await AcceptedIdAsync(await SubmitAsync(ownerClient, Tiny())))).ImageIds.Single();
        foreach (var sourceId in new[] { ownersImage, Guid.NewGuid() })
        {
            using var form = new MultipartFormDataContent();
            form.Add(new StringContent(sourceId.ToString()), "sourceImageId");
            form.Add(new StringContent("x"), "prompt");
            var response = await client.PostAsync(new Uri("/api/v1/jobs/img2img", UriKind.Relative), form);
            Assert.Equal(["sourceImageId"], await ErrorFieldsAsync(response));
        }
    }

    [Fact]
    public async Task The_events_of_a_real_generation_run_queued_then_steps_then_completed_with_the_jobs_image_ids_and_the_stream_ends()
    {
        var account = await SignUpAsync("events@jobs.test");
        using var client = account.Client;
        // A long job ahead in the same person's line holds the one worker, so the followed job is still waiting when the stream opens.
        var blocker = await AcceptedIdAsync(await SubmitAsync(client, new { model = "t2istudio-tiny", prompt = "hold the line", steps = 150, width = 256, height = 256 }));
        var id = await AcceptedIdAsync(await SubmitAsync(client, Tiny("followed live", steps: 3)));

        var events = await ReadEventsAsync(client, id, async (type, _) =>
        {
            if (type == "queued")
            {
                var cancel = await client.PostAsync(new Uri($"/api/v1/jobs/{blocker}/cancel", UriKind.Relative), null);
                Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            }
        });

        var types = events.Select(e => e.Type).ToList();
        Assert.Equal("queued", types[0]);
        Assert.Equal("completed", types[^1]);
        Assert.Single(types, t => t == "completed");
        Assert.DoesNotContain("failed", types);
        Assert.DoesNotContain("canceled", types);
        var started = types.IndexOf("started");
        Assert.True(started > 0, string.Join(", ", types));
        Assert.True(types.IndexOf("step") > started, string.Join(", ", types));
        Assert.All(types.Skip(1).Take(started - 1), t => Assert.Equal("position", t));
        var steps = events.Where(e => e.Type == "step").Select(e => e.Data.GetProperty("step").GetInt32()).ToList();
        Assert.Equal(steps.Order(), steps);
        Assert.All(events.Where(e => e.Type == "step"), e => Assert.Equal(3, e.Data.GetProperty("totalSteps").GetInt32()));
        Assert.All(events, e => Assert.Equal(id, e.Data.GetProperty("jobId").GetGuid()));

        var job = await client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/jobs/{id}", UriKind.Relative));
        Assert.Equal(job.GetProperty("imageIds").EnumerateArray().Select(i => i.GetGuid()),
            events[^1].Data.GetProperty("imageIds").EnumerateArray().Select(i => i.GetGuid()));
        Assert.Single(events[^1].Data.GetProperty("imageIds").EnumerateArray());

        // A finished job's stream tells its end at once and closes.
        Assert.Equal(["completed"], (await ReadEventsAsync(client, id)).Select(e => e.Type));
    }

    /// <summary>Reads a job's server-sent events until the server ends the stream (a generous safety deadline, not a timing assertion).</summary>
    internal static async Task<List<(string Type, JsonElement Data)>> ReadEventsAsync(HttpClient client, Guid id, Func<string, JsonElement, Task>? onEvent = null)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/jobs/{id}/events");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(deadline.Token));
        var events = new List<(string, JsonElement)>();
        string? type = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    var parsed = JsonDocument.Parse(data.ToString()).RootElement.Clone();
                    events.Add((type ?? "message", parsed));
                    if (onEvent is not null)
                    {
                        await onEvent(type ?? "message", parsed);
                    }
                }
                (type, data) = (null, data.Clear());
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line["data: ".Length..]);
            }
        }
        return events;
    }

    private async Task<byte[]> StoredPngAsync(AppUser user, Guid imageId)
    {
        using var scope = _app.Services.CreateScope();
        var image = await scope.ServiceProvider.GetRequiredService<ImageLibrary>().GetAsync(StudioAppFactory.PrincipalOf(user), imageId);
        return await _app.Services.GetRequiredService<ImageStore>().ReadAsync(image!.FileKey);
    }

    private static ByteArrayContent File(byte[] bytes, string name)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(name.EndsWith(".png", StringComparison.Ordinal) ? "image/png" : "application/octet-stream");
        return content;
    }

    /// <summary>A white band across rows 28–35 of a black 64×64 picture, as an RGB PNG (what a person paints and uploads).</summary>
    private static byte[] BandMask()
    {
        var pixels = new byte[Side * Side * 3];
        Array.Fill(pixels, (byte)255, 28 * Side * 3, 8 * Side * 3);
        return PngFiles.Encode(new RgbImage(Side, Side, pixels), null, null);
    }

    private static RgbImage Decode(byte[] png)
    {
        using var stream = new MemoryStream(png);
        return PngFiles.Decode(stream);
    }
}

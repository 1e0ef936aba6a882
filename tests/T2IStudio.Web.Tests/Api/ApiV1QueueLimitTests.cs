using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Tests.Infrastructure;
using static T2IStudio.Web.Tests.Api.ApiV1JobsTests;

namespace T2IStudio.Web.Tests.Api;

/// <summary>The API's limits and a queue that holds still: no worker runs here, so every job stays queued until cancelled.</summary>
public sealed class ApiV1QueueLimitTests : IClassFixture<ApiV1QueueLimitTests.QueueHeldStill>
{
    private readonly StudioAppFactory _app;

    public ApiV1QueueLimitTests(QueueHeldStill world) => _app = world.Factory;

    /// <summary>One app without a worker, one job per token, and a small body cap.</summary>
    public sealed class QueueHeldStill : IDisposable
    {
        public StudioAppFactory Factory { get; } = new(settings: new Dictionary<string, string?>
        {
            ["Queue:RunWorker"] = "false",
            ["Queue:MaxQueuedPerToken"] = "1",
            ["Api:MaxRequestBytes"] = "1024",
        });

        public void Dispose() => Factory.Dispose();
    }

    private async Task<HttpClient> ClientAsync(AppUser user) => _app.CreateApiClient(await _app.CreateTokenAsync(user, name: Guid.NewGuid().ToString("N")));

    [Fact]
    public async Task A_tokens_second_waiting_job_is_a_429_problem_while_another_token_of_the_same_person_may_still_submit()
    {
        var user = await _app.CreateUserAsync("limit@queue.test");
        using var first = await ClientAsync(user);
        using var second = await ClientAsync(user);

        await AcceptedIdAsync(await SubmitAsync(first, Tiny()));
        var refused = await SubmitAsync(first, Tiny());

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await JsonOf(refused);
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains("the most allowed is 1", problem.GetProperty("errors").GetProperty("request")[0].GetString(), StringComparison.Ordinal);
        await AcceptedIdAsync(await SubmitAsync(second, Tiny()));
    }

    [Fact]
    public async Task Cancelling_a_queued_job_answers_canceled_and_its_status_and_events_say_so()
    {
        var user = await _app.CreateUserAsync("cancel@queue.test");
        using var client = await ClientAsync(user);
        var id = await AcceptedIdAsync(await SubmitAsync(client, Tiny()));
        var queued = await client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/jobs/{id}", UriKind.Relative));
        Assert.Equal("Queued", queued.GetProperty("status").GetString());

        var cancel = await client.PostAsync(new Uri($"/api/v1/jobs/{id}/cancel", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("Canceled", (await JsonOf(cancel)).GetProperty("outcome").GetString());
        var job = await client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/jobs/{id}", UriKind.Relative));
        Assert.Equal("Canceled", job.GetProperty("status").GetString());
        Assert.Equal(["canceled"], (await ReadEventsAsync(client, id)).Select(e => e.Type));
        var again = await client.PostAsync(new Uri($"/api/v1/jobs/{id}/cancel", UriKind.Relative), null);
        Assert.Equal("AlreadyFinished", (await JsonOf(again)).GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task A_queued_jobs_stream_opens_with_queued_and_its_place_in_line_and_ends_when_it_is_cancelled()
    {
        var user = await _app.CreateUserAsync("stream@queue.test");
        using var client = await ClientAsync(user);
        var id = await AcceptedIdAsync(await SubmitAsync(client, Tiny()));

        var events = await ReadEventsAsync(client, id, async (type, _) =>
        {
            if (type == "queued")
            {
                Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(new Uri($"/api/v1/jobs/{id}/cancel", UriKind.Relative), null)).StatusCode);
            }
        });

        Assert.Equal("queued", events[0].Type);
        Assert.Equal(JsonValueKind.Number, events[0].Data.GetProperty("position").ValueKind);
        Assert.False(events[0].Data.TryGetProperty("imageIds", out _)); // what an event does not carry is left out
        Assert.Equal("canceled", events[^1].Type);
    }

    [Fact]
    public async Task Jobs_page_newest_first_through_an_opaque_cursor_and_a_bad_cursor_or_limit_is_a_400_naming_it()
    {
        var user = await _app.CreateUserAsync("pages@queue.test");
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            using var client = await ClientAsync(user); // one job per token here
            ids.Add(await AcceptedIdAsync(await SubmitAsync(client, Tiny($"job {i}"))));
        }
        using var reader = await ClientAsync(user);

        var first = await reader.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/jobs?limit=2", UriKind.Relative));
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await reader.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/jobs?limit=2&cursor={Uri.EscapeDataString(cursor!)}", UriKind.Relative));

        var seen = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Select(j => j.GetProperty("id").GetGuid()).ToList();
        Assert.Equal(Enumerable.Reverse(ids), seen);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
        Assert.Equal(["cursor"], await ErrorFieldsAsync(await reader.GetAsync(new Uri("/api/v1/jobs?cursor=not-a-cursor", UriKind.Relative))));
        Assert.Equal(["limit"], await ErrorFieldsAsync(await reader.GetAsync(new Uri("/api/v1/jobs?limit=0", UriKind.Relative))));
        Assert.Equal(["limit"], await ErrorFieldsAsync(await reader.GetAsync(new Uri("/api/v1/jobs?limit=101", UriKind.Relative))));
    }

    [Fact]
    public async Task A_body_over_the_cap_is_a_413_problem()
    {
        var user = await _app.CreateUserAsync("big@queue.test");
        using var client = await ClientAsync(user);

        // A declared length over the cap (1024 here) is refused before anything reads the body; the prompt itself is within its limit.
        using var body = new StringContent(JsonSerializer.Serialize(new { model = "t2istudio-tiny", prompt = new string('a', 1500), steps = 2, width = 64, height = 64 }),
            System.Text.Encoding.UTF8, "application/json");
        var response = await client.PostAsync(new Uri("/api/v1/jobs/txt2img", UriKind.Relative), body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Api;

/// <summary>The API's rate limit counts per token: one token past its limit gets 429 problems; another token is untouched.</summary>
public sealed class ApiRateLimitTests : IDisposable
{
    private readonly StudioAppFactory _app = new(settings: new Dictionary<string, string?>
    {
        ["Api:RequestsPerMinutePerToken"] = "3",
        ["Api:RequestsPerMinutePerAddress"] = "12",
        ["Api:ConcurrentUploadsPerToken"] = "2",
    });

    [Fact]
    public async Task A_token_past_its_limit_gets_429_with_retry_after_and_another_token_is_untouched()
    {
        var user = await _app.CreateUserAsync("busy@limit.test");
        using var busy = _app.CreateApiClient(await _app.CreateTokenAsync(user, name: "busy"));
        using var calm = _app.CreateApiClient(await _app.CreateTokenAsync(user, name: "calm"));
        var me = new Uri("/api/v1/me", UriKind.Relative);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await busy.GetAsync(me)).StatusCode);
        }
        var refused = await busy.GetAsync(me);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await calm.GetAsync(me)).StatusCode);
    }

    [Fact]
    public async Task Made_up_tokens_do_not_multiply_one_addresss_allowance()
    {
        var refused = 0;
        for (var i = 0; i < 14; i++)
        {
            using var client = _app.CreateApiClient($"t2i_made-up-{i}");
            var status = (await client.GetAsync(new Uri("/api/v1/me", UriKind.Relative))).StatusCode;
            Assert.True(status is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, $"request {i}: {status}");
            refused += status == HttpStatusCode.TooManyRequests ? 1 : 0;
        }

        // Each made-up token is its own per-token partition; the per-address limit (12 a minute) still stops the flood.
        Assert.Equal(2, refused);
    }

    [Fact]
    public void A_token_may_have_two_pictures_in_flight_a_third_is_refused_and_another_token_is_untouched()
    {
        var limiter = _app.Services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter!;
        HttpContext Upload(string token, string path = "/api/v1/jobs/inpaint")
        {
            var context = new DefaultHttpContext { RequestServices = _app.Services };
            context.Request.Method = "POST";
            context.Request.Path = path;
            context.Request.Headers.Authorization = "Bearer " + token;
            context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
            return context;
        }

        using var first = limiter.AttemptAcquire(Upload("t2i_one"));
        using var second = limiter.AttemptAcquire(Upload("t2i_one", "/sdapi/v1/img2img"));
        using var third = limiter.AttemptAcquire(Upload("t2i_one", "/api/v1/jobs/img2img"));
        using var other = limiter.AttemptAcquire(Upload("t2i_two"));

        Assert.True(first.IsAcquired);
        Assert.True(second.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.True(other.IsAcquired);
        first.Dispose();
        using var afterOne = limiter.AttemptAcquire(Upload("t2i_one"));
        Assert.True(afterOne.IsAcquired);
    }

    [Fact]
    public async Task An_unknown_route_under_the_api_answers_a_problem_not_the_apps_not_found_page()
    {
        var user = await _app.CreateUserAsync("lost@limit.test");
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user));

        var response = await client.GetAsync(new Uri("/api/v1/no-such-thing", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    public void Dispose() => _app.Dispose();
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Api;

/// <summary>Requests the API cannot take answer RFC 9457 problems that say why, naming the field where there is one.</summary>
public sealed class ApiProblemTests(StudioAppFixture fixture) : IClassFixture<StudioAppFixture>
{
    private readonly StudioAppFactory _app = fixture.Factory;

    [Theory]
    [InlineData("/api/v1/jobs/txt2img", """{"model":"t2istudio-tiny","prompt":"x","width":"wide"}""", "width")]
    [InlineData("/api/v1/jobs/txt2img", """{"model":"t2istudio-tiny","prompt":"x","steps":2.5}""", "steps")]
    [InlineData("/sdapi/v1/txt2img", """{"prompt":"x","cfg_scale":"high"}""", "cfg_scale")]
    [InlineData("/api/v1/jobs/txt2img", """{"model":"t2istudio-tiny","prompt":""", "body")]
    public async Task A_json_value_of_the_wrong_type_is_a_400_naming_the_field(string route, string body, string field)
    {
        using var client = await ClientAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        var response = await client.PostAsync(new Uri(route, UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Json_to_a_multipart_route_is_a_415_problem_not_the_pages_sign_in_redirect()
    {
        using var client = await ClientAsync();
        using var json = new StringContent("{}", Encoding.UTF8, "application/json");

        var wrongType = await client.PostAsync(new Uri("/api/v1/jobs/inpaint", UriKind.Relative), json);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Equal("application/problem+json", wrongType.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_query_value_that_does_not_bind_is_a_400_naming_it()
    {
        using var client = await ClientAsync();

        var response = await client.GetAsync(new Uri("/sdapi/v1/progress?skip_current_image=perhaps", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("skip_current_image", out _), problem.ToString());
    }

    private async Task<HttpClient> ClientAsync()
    {
        var user = await _app.CreateUserAsync($"{Guid.NewGuid():N}@problems.test");
        return _app.CreateApiClient(await _app.CreateTokenAsync(user));
    }
}

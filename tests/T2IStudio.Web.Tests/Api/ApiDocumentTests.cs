using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Api;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Api;

/// <summary>The OpenAPI document: who may read it, that it validates, and that it describes every API route with the bearer.</summary>
public sealed class ApiDocumentTests(StudioAppFixture fixture) : IClassFixture<StudioAppFixture>
{
    private readonly StudioAppFactory _app = fixture.Factory;

    [Fact]
    public async Task The_document_parses_without_errors_and_lists_every_api_route_with_its_method_and_the_bearer_requirement()
    {
        var user = await _app.CreateUserAsync("reader@openapi.test");
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user, ApiTokenScope.Read));

        var response = await client.GetAsync(new Uri(ApiDocuments.DocumentUrl, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (document, diagnostic) = OpenApiDocument.Parse(await response.Content.ReadAsStringAsync(), "json");

        Assert.NotNull(document);
        Assert.True(diagnostic is null || diagnostic.Errors.Count == 0, string.Join(Environment.NewLine, diagnostic?.Errors.Select(e => $"{e.Pointer}: {e.Message}") ?? []));
        Assert.Equal(ApiDocuments.Title, document.Info.Title);
        var scheme = document.Components?.SecuritySchemes?[ApiDocuments.BearerScheme];
        Assert.Equal(SecuritySchemeType.Http, scheme?.Type);
        Assert.Equal("bearer", scheme?.Scheme);

        var routes = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => ApiDocuments.IsApiPath(e.RoutePattern.RawText))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Path: PathOf(e), Method: m)))
            .Distinct()
            .ToList();
        Assert.Contains(("/api/v1/jobs/{id}", "GET"), routes);
        Assert.Contains(("/api/v1/jobs/txt2img", "POST"), routes);
        var problems = new List<string>();
        foreach (var (path, method) in routes)
        {
            if (!document.Paths.TryGetValue(path, out var item) || item.Operations?.FirstOrDefault(o => o.Key.Method == method).Value is not { } operation)
            {
                problems.Add($"{method} {path} is not in the document");
                continue;
            }
            if (operation.Security?.Any(r => r.Keys.Any(k => k.Reference.Id == ApiDocuments.BearerScheme)) != true)
            {
                problems.Add($"{method} {path} does not require the bearer");
            }
            if (operation.Tags is not { Count: > 0 } tags || !tags.All(t => ApiDocuments.Tags.Any(known => known.Name == t.Reference.Id)))
            {
                problems.Add($"{method} {path} has no tag of the reference");
            }
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        // Only the APIs are documented: no page, no image file route, no account endpoint.
        Assert.All(document.Paths.Keys, path => Assert.True(ApiDocuments.IsApiPath(path), path));
    }

    [Fact]
    public async Task A_signed_in_person_reads_the_document_and_the_reference_page_while_anonymous_is_sent_to_sign_in()
    {
        var user = await _app.CreateUserAsync("browser@openapi.test");
        using var browser = _app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(browser, user.Email!, TestAccounts.Password)).StatusCode);

        var document = await browser.GetAsync(new Uri(ApiDocuments.DocumentUrl, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Contains("\"openapi\"", await document.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var page = await browser.GetStringAsync(new Uri("/api-docs", UriKind.Relative));
        Assert.Contains("API reference", page, StringComparison.Ordinal);
        Assert.Contains("/account/api-tokens", page, StringComparison.Ordinal);
        Assert.Contains("/api/v1/jobs/txt2img", page, StringComparison.Ordinal); // the operations, grouped under their tags
        Assert.Contains(">Jobs</h2>", page, StringComparison.Ordinal);

        using var anonymous = _app.CreateBrowserlikeClient();
        var refused = await anonymous.GetAsync(new Uri(ApiDocuments.DocumentUrl, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/Account/Login", refused.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        using var wrongToken = _app.CreateApiClient("t2i_not-a-real-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongToken.GetAsync(new Uri(ApiDocuments.DocumentUrl, UriKind.Relative))).StatusCode);
    }

    /// <summary>A route as the document writes its path: parameters without their constraints.</summary>
    private static string PathOf(RouteEndpoint endpoint) =>
        "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternSeparatorPart separator => separator.Content,
            _ => "",
        }))));
}

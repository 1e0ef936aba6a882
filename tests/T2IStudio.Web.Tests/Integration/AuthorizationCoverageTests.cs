using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

public sealed class AuthorizationCoverageTests(StudioAppFixture app) : IClassFixture<StudioAppFixture>
{
    // The only anonymous routes: signing in (with a password, a second factor, or the company's provider, whose
    // callback decides the account), registering, confirming an address and resetting a password by email, the
    // health probe and the metrics scrape (static files are checked apart).
    private static readonly HashSet<string> AnonymousAllowList = new(StringComparer.OrdinalIgnoreCase)
    {
        "/Account/ExternalLogin",
        "/Account/ExternalLogin/Callback",
        "/Account/Login",
        "/Account/LoginWith2fa",
        "/Account/LoginWithRecoveryCode",
        "/Account/Register",
        "/Account/ConfirmEmail",
        "/Account/ResendConfirmation",
        "/Account/ForgotPassword",
        "/Account/ResetPassword",
        "/health",
        // Prometheus' scrape: it checks for an admin (cookie or bearer token) itself and answers everyone else a bare
        // 404, never a sign-in redirect that would tell a prober the route exists (MetricsEndpointTests).
        "/metrics",
    };

    [Fact]
    public async Task Anonymous_request_to_root_redirects_to_sign_in()
    {
        using var client = app.Factory.CreateBrowserlikeClient();
        var response = await client.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Login?ReturnUrl=%2F", response.Headers.Location?.PathAndQuery);
    }

    [Fact]
    public void Every_endpoint_is_covered_by_the_fallback_policy_except_the_allow_list()
    {
        var endpoints = AllRouteEndpoints();
        Assert.NotEmpty(endpoints);
        var anonymous = endpoints
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null && !IsStaticAsset(e))
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.Ordinal)
            .ToList();
        var unexpected = anonymous.Where(route => !AnonymousAllowList.Contains(route)).ToList();
        Assert.True(unexpected.Count == 0, "Anonymous endpoints outside the allow-list: " + string.Join(", ", unexpected));
        Assert.Equal(AnonymousAllowList.Order(StringComparer.Ordinal), anonymous);
    }

    [Fact]
    public async Task Every_parameterless_page_and_get_endpoint_outside_the_allow_list_redirects_anonymous_users_to_sign_in()
    {
        var routes = AllRouteEndpoints()
            .Where(e => !IsStaticAsset(e) && e.RoutePattern.Parameters.Count == 0)
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is not { } methods || methods.Contains("GET"))
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Where(route => !AnonymousAllowList.Contains(route))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        Assert.Contains("/admin", routes);
        Assert.Contains("/gallery", routes);

        using var client = app.Factory.CreateBrowserlikeClient();
        foreach (var route in routes)
        {
            var response = await client.GetAsync(new Uri(route, UriKind.Relative));
            Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Unauthorized,
                $"{route} answered {(int)response.StatusCode} to an anonymous request");
            if (response.StatusCode == HttpStatusCode.Redirect)
            {
                Assert.StartsWith("/Account/Login", response.Headers.Location?.AbsolutePath ?? response.Headers.Location?.OriginalString, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Static_files_and_framework_assets_are_public()
    {
        using var client = app.Factory.CreateBrowserlikeClient();
        foreach (var path in new[] { "/app.css", "/favicon.svg", "/_framework/blazor.web.js", "/_content/MudBlazor/MudBlazor.min.css" })
        {
            var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}");
        }
    }

    private List<RouteEndpoint> AllRouteEndpoints()
    {
        _ = app.Factory.Server; // start the host so every endpoint is mapped
        return app.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
    }

    private static bool IsStaticAsset(RouteEndpoint endpoint) => endpoint.Metadata.GetMetadata<StaticAssetDescriptor>() is not null;
}

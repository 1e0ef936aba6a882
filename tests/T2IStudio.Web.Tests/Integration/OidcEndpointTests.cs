using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Auth.Oidc;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// The company sign-in's HTTP surface with the <c>oidc</c> scheme registered (no provider is contacted: nothing here
/// reaches the point of reading its discovery document): the button, the policy's form-action, failed callbacks
/// answered with a sentence on the sign-in page, and passwords refused on the change-password page when Only is on.
/// </summary>
public sealed class OidcEndpointTests
{
    private const string Authority = "https://login.example.test";

    private static Dictionary<string, string?> OidcSettings(bool only = false) => new()
    {
        ["Authentication:Oidc:Authority"] = Authority,
        ["Authentication:Oidc:ClientId"] = "studio",
        ["Authentication:Oidc:ClientSecret"] = "secret",
        ["Authentication:Oidc:DisplayName"] = "Example SSO",
        ["Authentication:Oidc:Only"] = only ? "true" : "false",
    };

    [Fact]
    public async Task The_sign_in_page_offers_the_provider_and_its_policy_lets_the_form_redirect_there()
    {
        using var app = new OidcAppFactory(OidcSettings());
        using var client = app.CreateBrowserlikeClient();
        var response = await client.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Sign in with Example SSO</button>", html, StringComparison.Ordinal);
        Assert.Contains("action=\"/Account/ExternalLogin\"", html, StringComparison.Ordinal);
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains($"form-action 'self' {Authority};", policy, StringComparison.Ordinal);

        // Without the provider the policy stays as strict as before.
        using var plain = new StudioAppFactory();
        using var plainClient = plain.CreateBrowserlikeClient();
        var plainPolicy = (await plainClient.GetAsync(new Uri("/Account/Login", UriKind.Relative))).Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("form-action 'self';", plainPolicy, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/signin-oidc?code=abc&state=forged")]
    [InlineData("/signin-oidc?code=abc")]
    [InlineData("/signin-oidc?error=access_denied&state=forged")]
    [InlineData("/Account/ExternalLogin/Callback")]
    public async Task A_callback_that_is_not_the_answer_to_this_browsers_sign_in_goes_back_to_the_sign_in_page_with_a_sentence(string callback)
    {
        using var app = new OidcAppFactory(OidcSettings());
        using var client = app.CreateBrowserlikeClient();
        var response = await client.GetAsync(new Uri(callback, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Login?status=external-failed", response.Headers.Location?.OriginalString);
        var page = await (await client.GetAsync(response.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains("Signing in with Example SSO did not complete (the attempt expired or its answer did not match). Try again.", TestAccounts.Banners(page));
    }

    [Fact]
    public async Task Starting_a_sign_in_needs_the_forms_antiforgery_token()
    {
        using var app = new OidcAppFactory(OidcSettings());
        using var client = app.CreateBrowserlikeClient();
        using var forged = new FormUrlEncodedContent(new Dictionary<string, string> { ["ReturnUrl"] = "/" });
        var response = await client.PostAsync(new Uri("/Account/ExternalLogin", UriKind.Relative), forged);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task With_passwords_off_the_change_password_page_says_so_and_offers_no_form()
    {
        // Signed in with a password before an administrator turned passwords off (the cookie survives the restart).
        using var before = new StudioAppFactory();
        await before.CreateUserAsync("only@example.test");
        string cookie;
        using (var client = before.CreateBrowserlikeClient())
        {
            var signIn = await TestAccounts.SignInAsync(client, "only@example.test", TestAccounts.Password);
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("T2IStudio.Auth=", StringComparison.Ordinal)).Split(';')[0];
        }

        using var after = new OidcAppFactory(OidcSettings(only: true), before.StorageRoot);
        using var restarted = after.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Account/Manage/ChangePassword");
        request.Headers.Add("Cookie", cookie);
        var response = await restarted.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(["Passwords are turned off here: you sign in with Example SSO."], TestAccounts.Banners(html));
        Assert.DoesNotContain("type=\"password\"", html, StringComparison.Ordinal);

        // API tokens are not passwords: they keep working.
        var user = await after.CreateUserAsync("only-api@example.test");
        using var api = after.CreateApiClient(await after.CreateTokenAsync(user));
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync(new Uri("/api/v1/me", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task An_invite_link_on_the_register_page_travels_with_the_company_sign_in()
    {
        using var app = new OidcAppFactory(OidcSettings(only: true));
        using var client = app.CreateBrowserlikeClient();
        var html = await (await client.GetAsync(new Uri("/Account/Register?invite=abc-123", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains("name=\"Invite\" value=\"abc-123\"", html, StringComparison.Ordinal);
        var login = await (await client.GetAsync(new Uri("/Account/Login", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.DoesNotContain("name=\"Invite\"", login, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_company_session_stays_one_when_the_security_stamp_check_rebuilds_the_principal()
    {
        using var app = new OidcAppFactory(OidcSettings());
        var refresh = app.Services.GetRequiredService<IOptions<SecurityStampValidatorOptions>>().Value.OnRefreshingPrincipal;
        Assert.NotNull(refresh);
        var current = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.AuthenticationMethod, OidcOptions.Scheme)], "Identity.Application"));
        var rebuilt = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "someone")], "Identity.Application"));
        await refresh(new SecurityStampRefreshingPrincipalContext { CurrentPrincipal = current, NewPrincipal = rebuilt });
        Assert.Equal(OidcOptions.Scheme, rebuilt.FindFirstValue(ClaimTypes.AuthenticationMethod));

        // A password session gains nothing.
        var password = new ClaimsPrincipal(new ClaimsIdentity([new Claim("amr", "pwd")], "Identity.Application"));
        var rebuiltPassword = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "someone")], "Identity.Application"));
        await refresh(new SecurityStampRefreshingPrincipalContext { CurrentPrincipal = password, NewPrincipal = rebuiltPassword });
        Assert.Null(rebuiltPassword.FindFirst(ClaimTypes.AuthenticationMethod));
    }

    [Fact]
    public async Task A_get_to_the_handlers_remote_sign_out_address_does_not_sign_anyone_out()
    {
        using var app = new OidcAppFactory(OidcSettings());
        await app.CreateUserAsync("stay@example.test");
        using var client = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, "stay@example.test", TestAccounts.Password)).StatusCode);

        // What another site's link or image would send: a top-level GET to /signout-oidc with the browser's cookies.
        var remote = await client.GetAsync(new Uri("/signout-oidc", UriKind.Relative));
        Assert.False(remote.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("T2IStudio.Auth=;", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task With_passwords_off_the_right_password_neither_signs_in_nor_registers()
    {
        using var app = new OidcAppFactory(OidcSettings(only: true));
        await app.CreateUserAsync("pw@example.test");
        using var client = app.CreateBrowserlikeClient();
        // Neither page offers a password form.
        foreach (var page in new[] { "/Account/Login", "/Account/Register" })
        {
            Assert.DoesNotContain("type=\"password\"", await (await client.GetAsync(new Uri(page, UriKind.Relative))).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A hand-made post with the right password is refused (no form on the page takes it) and opens no session.
        var signIn = await TestAccounts.PostWithoutFormAsync(client, "/Account/Login", "login",
            new Dictionary<string, string> { ["Input.Email"] = "pw@example.test", ["Input.Password"] = TestAccounts.Password });
        Assert.Equal(HttpStatusCode.BadRequest, signIn.StatusCode);
        Assert.False(signIn.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("T2IStudio.Auth=", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative))).StatusCode);

        var register = await TestAccounts.PostWithoutFormAsync(client, "/Account/Register", "register",
            new Dictionary<string, string> { ["Input.Email"] = "new@example.test", ["Input.Password"] = TestAccounts.Password });
        Assert.Equal(HttpStatusCode.BadRequest, register.StatusCode);
        using var scope = app.Services.CreateScope();
        Assert.Null(await scope.ServiceProvider.GetRequiredService<UserManager<Data.Entities.AppUser>>().FindByEmailAsync("new@example.test"));
    }

    [Theory]
    [InlineData("http://login.example.test", null, "is http://: use https, or set Authentication:Oidc:RequireHttpsMetadata=false")]
    [InlineData(null, "true", "Authentication:Oidc:Only=true needs the provider configured (Authority and ClientId).")]
    public async Task The_app_refuses_to_start_with_an_http_authority_or_passwords_off_without_a_provider(string? authority, string? only, string message)
    {
        var settings = new Dictionary<string, string?> { ["Authentication:Oidc:Only"] = only ?? "false" };
        if (authority is not null)
        {
            settings["Authentication:Oidc:Authority"] = authority;
            settings["Authentication:Oidc:ClientId"] = "studio";
        }
        using var app = new OidcAppFactory(settings);
        var failure = Assert.ThrowsAny<Exception>(() => app.Services);
        Assert.Contains(message, failure.ToString(), StringComparison.Ordinal);

        if (authority is not null)
        {
            // Loopback tests and labs say so explicitly.
            settings["Authentication:Oidc:RequireHttpsMetadata"] = "false";
            using var lab = new OidcAppFactory(settings);
            using var client = lab.CreateBrowserlikeClient();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/Account/Login", UriKind.Relative))).StatusCode);
        }
    }

    [Fact]
    public async Task The_end_session_origin_is_allowed_as_a_form_target_from_the_start_without_any_sign_out()
    {
        var discovery = new OpenIdConnectConfiguration
        {
            Issuer = Authority,
            AuthorizationEndpoint = Authority + "/auth",
            EndSessionEndpoint = "https://logout.example.test/session/end",
        };
        using var app = new OidcAppFactory(OidcSettings(), discovery: discovery);
        using var client = app.CreateBrowserlikeClient();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string policy;
        do
        {
            policy = (await client.GetAsync(new Uri("/Account/Login", UriKind.Relative))).Headers.GetValues("Content-Security-Policy").Single();
            if (policy.Contains("https://logout.example.test", StringComparison.Ordinal))
            {
                break;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Contains($"form-action 'self' {Authority} https://logout.example.test;", policy, StringComparison.Ordinal);
    }

    [Fact]
    public void Refusal_addresses_keep_only_local_return_addresses()
    {
        Assert.Equal("/Account/Login?status=external-disabled", Web.Endpoints.ExternalLoginEndpoints.LoginWith(ExternalRefusal.Disabled, "https://evil.example/"));
        Assert.Equal("/Account/Login?status=external-disabled&ReturnUrl=%2Fgallery", Web.Endpoints.ExternalLoginEndpoints.LoginWith(ExternalRefusal.Disabled, "/gallery"));
    }

    /// <summary>
    /// The app with its settings also given as host settings, so the registration code (which reads the OIDC settings
    /// from the builder's configuration before the app is built) sees them and registers the scheme.
    /// </summary>
    private sealed class OidcAppFactory(IDictionary<string, string?> settings, string? storageRoot = null, OpenIdConnectConfiguration? discovery = null)
        : StudioAppFactory(storageRoot, settings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            foreach (var (key, value) in Settings)
            {
                builder.UseSetting(key, value);
            }
            if (discovery is not null)
            {
                // The provider's discovery document, as if read from it.
                builder.ConfigureTestServices(services => services.PostConfigure<OpenIdConnectOptions>(OidcOptions.Scheme,
                    options => options.ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(discovery)));
            }
        }
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// Behind a TLS proxy: X-Forwarded-Proto is believed only from <c>Network:KnownProxies</c>, and then the cookies are
/// Secure and HSTS is sent; from anyone else the headers change nothing.
/// </summary>
public sealed partial class TransportSecurityTests
{
    private const string Proxy = "10.0.0.2";

    [Fact]
    public async Task Behind_a_known_proxy_that_says_https_the_sign_in_cookie_is_secure_and_hsts_is_sent()
    {
        using var factory = new ProxiedFactory(peer: Proxy, knownProxies: [Proxy]);
        await factory.CreateUserAsync("tls@example.test");

        var (signIn, login) = await SignInThroughProxyAsync(factory, "tls@example.test");

        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Contains("; secure", AuthCookie(signIn), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; secure", AntiforgeryCookie(login), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("max-age=31536000", login.Headers.GetValues("Strict-Transport-Security").Single());
        // The client's address (what a per-IP limit counts) is the one the proxy forwarded.
        Assert.NotEmpty(factory.SeenClients);
        Assert.All(factory.SeenClients, address => Assert.Equal("203.0.113.7", address));
    }

    [Fact]
    public async Task From_an_address_that_is_not_a_known_proxy_the_forwarded_scheme_is_ignored()
    {
        using var factory = new ProxiedFactory(peer: "10.0.0.9", knownProxies: [Proxy]);
        await factory.CreateUserAsync("spoof@example.test");

        var (signIn, login) = await SignInThroughProxyAsync(factory, "spoof@example.test");

        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.DoesNotContain("; secure", AuthCookie(signIn), StringComparison.OrdinalIgnoreCase);
        Assert.False(login.Headers.Contains("Strict-Transport-Security"));
        Assert.NotEmpty(factory.SeenClients);
        Assert.All(factory.SeenClients, address => Assert.Equal("10.0.0.9", address));
    }

    [Fact]
    public async Task With_no_known_proxies_even_loopback_is_not_trusted()
    {
        using var factory = new ProxiedFactory(peer: "127.0.0.1", knownProxies: []);
        await factory.CreateUserAsync("loop@example.test");

        var (signIn, login) = await SignInThroughProxyAsync(factory, "loop@example.test");

        Assert.DoesNotContain("; secure", AuthCookie(signIn), StringComparison.OrdinalIgnoreCase);
        Assert.False(login.Headers.Contains("Strict-Transport-Security"));
        Assert.NotEmpty(factory.SeenClients);
        Assert.All(factory.SeenClients, address => Assert.Equal("127.0.0.1", address));
    }

    [Fact]
    public void A_known_proxy_that_is_not_an_address_stops_the_app_with_a_message_naming_the_key()
    {
        using var factory = new ProxiedFactory(peer: Proxy, knownProxies: ["proxy.corp"]);
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Network:KnownProxies holds 'proxy.corp'", Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_certificate_the_keys_are_encrypted_at_rest_and_a_cookie_survives_a_restart()
    {
        var storage = Directory.CreateTempSubdirectory("t2i-keys-").FullName;
        var pfx = Path.Combine(storage, "keys.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=T2I Studio data protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "pfx-pass"));
        }
        var settings = new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = pfx, ["DataProtection:CertificatePassword"] = "pfx-pass" };
        try
        {
            string cookie;
            using (var first = new HostSettingsFactory(storage, settings))
            {
                await first.CreateUserAsync("keys@example.test");
                using var client = first.CreateBrowserlikeClient();
                var signIn = await TestAccounts.SignInAsync(client, "keys@example.test", TestAccounts.Password);
                Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
                cookie = AuthCookie(signIn).Split(';')[0];
            }

            var keyFiles = Directory.GetFiles(Path.Combine(storage, "keys"), "key-*.xml");
            Assert.NotEmpty(keyFiles);
            foreach (var file in keyFiles)
            {
                var xml = await File.ReadAllTextAsync(file);
                Assert.Contains("<encryptedSecret", xml, StringComparison.Ordinal);
                Assert.Contains("EncryptedXmlDecryptor", xml, StringComparison.Ordinal);
                Assert.Contains("<X509Certificate>", xml, StringComparison.Ordinal);
                Assert.DoesNotContain("unencrypted form", xml, StringComparison.Ordinal);
                Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal);
            }

            // Restarted with the certificate, the old cookie still signs in.
            using (var second = new HostSettingsFactory(storage, settings))
            {
                Assert.Equal(HttpStatusCode.OK, await GetWithCookieAsync(second, cookie));
            }
            // Without it, the encrypted keys are unreadable: the cookie is worthless.
            using (var third = new StudioAppFactory(storage))
            {
                Assert.Equal(HttpStatusCode.Redirect, await GetWithCookieAsync(third, cookie));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(storage, recursive: true);
        }
    }

    [Fact]
    public void A_certificate_path_that_does_not_exist_stops_the_app_with_a_message_naming_the_key()
    {
        using var factory = new HostSettingsFactory(null, new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = "/nonexistent/keys.pfx" });
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("DataProtection:CertificatePath names '/nonexistent/keys.pfx', which does not exist", Flatten(error), StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> GetWithCookieAsync(StudioAppFactory factory, string cookie)
    {
        using var client = factory.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/gallery");
        request.Headers.Add("Cookie", cookie);
        return (await client.SendAsync(request)).StatusCode;
    }

    /// <summary>
    /// GETs the sign-in form and posts it with its antiforgery cookie, every request marked X-Forwarded-Proto: https
    /// as a TLS proxy marks it. Cookies are carried by hand: a cookie jar would not send Secure cookies over http.
    /// </summary>
    private static async Task<(HttpResponseMessage SignIn, HttpResponseMessage LoginPage)> SignInThroughProxyAsync(WebApplicationFactory<Program> factory, string email)
    {
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            HandleCookies = false,
            BaseAddress = new Uri("http://studio.example/"),
        });
        client.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.7");
        var login = await client.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = AntiforgeryField().Match(await login.Content.ReadAsStringAsync());
        Assert.True(token.Success, "No antiforgery token on the sign-in form");
        using var post = new HttpRequestMessage(HttpMethod.Post, "/Account/Login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Input.Email"] = email,
                ["Input.Password"] = TestAccounts.Password,
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
                ["_handler"] = "login",
            }),
        };
        post.Headers.Add("Cookie", AntiforgeryCookie(login).Split(';')[0]);
        return (await client.SendAsync(post), login);
    }

    private static string AuthCookie(HttpResponseMessage response) =>
        response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("T2IStudio.Auth=", StringComparison.Ordinal));

    private static string AntiforgeryCookie(HttpResponseMessage response) =>
        response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal));

    private static string Flatten(Exception error)
    {
        var messages = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is AggregateException aggregate)
            {
                messages.AddRange(aggregate.InnerExceptions.Select(inner => inner.Message));
            }
        }
        return string.Join(" | ", messages);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    /// <summary>The app in Production (where HSTS is on), every request arriving from <paramref name="peer"/>.</summary>
    private sealed class ProxiedFactory(string peer, string[] knownProxies)
        : StudioAppFactory(settings: KnownProxiesSettings(knownProxies))
    {
        private readonly PeerAddress _peer = new(IPAddress.Parse(peer));

        /// <summary>The client address the app saw on each response, after its own pipeline ran.</summary>
        public IReadOnlyList<string> SeenClients => _peer.Seen;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
            builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(_peer));
        }

        private static Dictionary<string, string?> KnownProxiesSettings(string[] proxies) =>
            proxies.Select((p, i) => KeyValuePair.Create($"Network:KnownProxies:{i}", (string?)p)).ToDictionary();
    }

    /// <summary>
    /// Settings the app reads while it registers its services (the data-protection certificate): given as host
    /// settings, which Program sees from the start, unlike test configuration added to the finished builder.
    /// </summary>
    private sealed class HostSettingsFactory(string? storageRoot, IDictionary<string, string?> hostSettings)
        : StudioAppFactory(storageRoot, hostSettings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            foreach (var (key, value) in Settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }

    /// <summary>The TCP peer a TestServer request does not have: set before the app's own pipeline.</summary>
    private sealed class PeerAddress(IPAddress address) : IStartupFilter
    {
        private readonly List<string> _seen = [];

        public IReadOnlyList<string> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = address;
                context.Response.OnStarting(() =>
                {
                    lock (_seen)
                    {
                        _seen.Add(context.Connection.RemoteIpAddress?.ToString() ?? "");
                    }
                    return Task.CompletedTask;
                });
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

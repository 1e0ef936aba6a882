using System.Security.Cryptography;

namespace T2IStudio.Web.Endpoints;

/// <summary>Security headers on every response (DESIGN.md §7), including the Content-Security-Policy.</summary>
public static class SecurityHeaders
{
    private const string NonceKey = "T2IStudio.CspNonce";

    /// <summary>
    /// The policy for a response whose inline script carries <paramref name="nonce"/>. Why each source is there:
    /// <list type="bullet">
    /// <item><c>script-src 'self' 'nonce-…'</c>: Blazor, MudBlazor and the components' modules are files; the one
    /// inline script is the framework's import map (its content changes with every build's fingerprints), so it
    /// carries the nonce. No <c>'unsafe-eval'</c> and no <c>'unsafe-inline'</c> for scripts.</item>
    /// <item><c>style-src 'unsafe-inline'</c>: MudBlazor writes <c>style</c> attributes on its components and its
    /// theme provider renders a <c>&lt;style&gt;</c> element of CSS variables; neither can carry a nonce or a
    /// stable hash.</item>
    /// <item><c>img-src data: blob:</c>: MudBlazor's CSS draws some icons as data URIs; the mask editor's canvas
    /// exports blobs and data URLs.</item>
    /// <item><c>connect-src 'self'</c>: the circuit's WebSocket and the enhanced-navigation fetches go to this
    /// origin only (CSP level 3 lets <c>'self'</c> match <c>ws:</c>/<c>wss:</c> on the same host).</item>
    /// <item><c>form-action</c>: this origin, plus the company provider's origins when its sign-in is on
    /// (<paramref name="formActionSources"/>): form-action also governs the redirect that follows a post, and the
    /// "Sign in with …" and "Sign out" posts are answered with a redirect to the provider.</item>
    /// </list>
    /// </summary>
    /// <param name="nonce">The response's script nonce (128 random bits as hex).</param>
    /// <param name="formActionSources">More <c>form-action</c> sources, space-separated (the provider's origins), or empty.</param>
    public static string Policy(string nonce, string formActionSources = "") =>
        "default-src 'self'; " +
        $"script-src 'self' 'nonce-{nonce}'; " +
        "style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data: blob:; " +
        "font-src 'self' data:; " +
        "connect-src 'self'; " +
        "object-src 'none'; " +
        "base-uri 'self'; " +
        (string.IsNullOrWhiteSpace(formActionSources) ? "form-action 'self'; " : $"form-action 'self' {formActionSources}; ") +
        "frame-ancestors 'self'";

    /// <summary>
    /// nosniff, a Content-Security-Policy with a fresh script nonce per response, frame-ancestors 'self', a strict
    /// referrer policy and no powerful browser features.
    /// </summary>
    /// <remarks>
    /// Set as the response starts, replacing any earlier value: antiforgery and the component renderer
    /// add their own X-Frame-Options, and a header sent twice is ambiguous to browsers and scanners.
    /// </remarks>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            if (NonceOf(context) is not null)
            {
                // A re-execution (status code page, exception handler) of a request that has its policy already:
                // one nonce per response, or the page would carry another nonce than the header.
                return next(context);
            }
            // Hex, not base64: Razor would write a base64 '+' as an HTML entity in the attribute.
            var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            context.Items[NonceKey] = nonce;
            var response = context.Response;
            response.OnStarting(static state =>
            {
                var (response, nonce) = ((HttpResponse, string))state;
                var headers = response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "SAMEORIGIN";
                var provider = response.HttpContext.RequestServices.GetService<Auth.Oidc.ProviderAddresses>();
                headers.ContentSecurityPolicy = Policy(nonce, provider?.FormActionSources ?? "");
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
                return Task.CompletedTask;
            }, (response, nonce));
            return next(context);
        });

    /// <summary>The script nonce of this request's policy, for the page's one inline script (the import map).</summary>
    public static string? NonceOf(HttpContext? context) =>
        context?.Items.TryGetValue(NonceKey, out var nonce) == true ? nonce as string : null;
}

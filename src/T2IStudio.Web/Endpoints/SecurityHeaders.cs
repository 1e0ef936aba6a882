namespace T2IStudio.Web.Endpoints;

/// <summary>Security headers on every response (DESIGN.md §7).</summary>
public static class SecurityHeaders
{
    /// <summary>nosniff, frame-ancestors 'self', a strict referrer policy and no powerful browser features.</summary>
    /// <remarks>
    /// Set as the response starts, replacing any earlier value: antiforgery and the component renderer
    /// add their own X-Frame-Options, and a header sent twice is ambiguous to browsers and scanners.
    /// </remarks>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            var response = context.Response;
            response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "SAMEORIGIN";
                headers.ContentSecurityPolicy = "frame-ancestors 'self'";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
                return Task.CompletedTask;
            }, response);
            return next(context);
        });
}

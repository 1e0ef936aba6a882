namespace T2IStudio.Web.Endpoints;

/// <summary>Security headers on every response (DESIGN.md §7).</summary>
public static class SecurityHeaders
{
    /// <summary>nosniff, frame-ancestors 'self', a strict referrer policy and no powerful browser features.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "SAMEORIGIN";
            headers.ContentSecurityPolicy = "frame-ancestors 'self'";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
            return next(context);
        });
}

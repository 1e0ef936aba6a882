using Microsoft.AspNetCore.Http.Features;
using T2IStudio.Web.Auth;

namespace T2IStudio.Web.Api;

/// <summary>
/// The public API: <c>/api/v1</c> (T2I Studio's own, documented at <c>/openapi/v1.json</c>) and <c>/sdapi/v1</c>
/// (AUTOMATIC1111's). Both authenticate with a personal access token only (no cookie, so no CSRF surface), are
/// rate-limited per token, cap request bodies, and answer errors as RFC 9457 problem details.
/// </summary>
public static class ApiEndpoints
{
    /// <summary>T2I Studio's own API.</summary>
    public const string V1Prefix = "/api/v1";

    /// <summary>The AUTOMATIC1111-compatible API.</summary>
    public const string A1111Prefix = "/sdapi/v1";

    /// <summary>Whether a request is for the API (or its document): answered in JSON problems, never by a page.</summary>
    public static bool IsApiRequest(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var path = context.Request.Path;
        return path.StartsWithSegments("/api") || path.StartsWithSegments("/sdapi") || path.StartsWithSegments("/openapi");
    }

    /// <summary>Maps both APIs and the OpenAPI document.</summary>
    public static IEndpointRouteBuilder MapStudioApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var v1 = app.MapGroup(V1Prefix)
            .RequireAuthorization(ApiTokenClaims.ReadPolicy)
            .RequireRateLimiting(StudioRateLimits.Api)
            .DisableAntiforgery();
        v1.MapApiV1();

        var a1111 = app.MapGroup(A1111Prefix)
            .WithTags("AUTOMATIC1111")
            .RequireAuthorization(ApiTokenClaims.ReadPolicy)
            .RequireRateLimiting(StudioRateLimits.Api)
            .DisableAntiforgery();
        a1111.MapA1111();

        app.MapApiDocuments();
        return app;
    }

    /// <summary>
    /// For API requests that match no API route (place right after <c>UseRouting()</c>): an unknown path answers 404,
    /// a known path with another method 405, a body of a type the route does not take 415 — as problems, before the
    /// pages' sign-in redirect (the fallback policy) can turn them into a 302.
    /// </summary>
    public static IApplicationBuilder UseApiRouteMisses(this IApplicationBuilder app) =>
        app.UseWhen(IsApiRequest, api => api.Use(async (context, next) =>
        {
            switch (context.GetEndpoint())
            {
                case null:
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                case RouteEndpoint:
                    await next(context);
                    return;
                case { RequestDelegate: { } answer }:
                    // Routing's own answer for a path that exists: 405 (method) or 415 (content type), with an empty body
                    // the status-code middleware turns into a problem.
                    await answer(context);
                    return;
                default:
                    await next(context);
                    return;
            }
        }));

    /// <summary>
    /// For API requests: a body over <c>Api:MaxRequestBytes</c> answers 413 before anything reads it (declared
    /// length), and the server stops reading a body that grows past it (chunked).
    /// </summary>
    public static IApplicationBuilder UseApiRequestLimits(this IApplicationBuilder app) =>
        app.UseWhen(IsApiRequest, api => api.Use(async (context, next) =>
        {
            var max = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<ApiOptions>>().CurrentValue.MaxRequestBytes;
            if (context.Request.ContentLength > max)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                await Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request body is too large.",
                    detail: $"The request body is {context.Request.ContentLength} bytes; the most allowed is {max}.").ExecuteAsync(context);
                return;
            }
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = max;
            }
            await next(context);
        }));
}

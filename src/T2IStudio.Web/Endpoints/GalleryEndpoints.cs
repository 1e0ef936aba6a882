using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using T2IStudio.Web.Galleries;

namespace T2IStudio.Web.Endpoints;

/// <summary>
/// Gallery files for pages (cookie-authenticated, under the fallback policy). Someone else's gallery answers 404,
/// exactly like one that does not exist.
/// </summary>
public static class GalleryEndpoints
{
    /// <summary>Maps <c>/galleries/{galleryId}/approved.zip</c>.</summary>
    public static IEndpointRouteBuilder MapGalleryEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGroup("/galleries").MapGet("/{galleryId:guid}/approved.zip", GetApprovedZipAsync);
        return app;
    }

    /// <summary>
    /// "Download approved": the gallery's approved images and their parameters, as a ZIP attachment; a problem (422)
    /// above <see cref="GalleryOptions.MaxApprovedExportImages"/>, or (429 with Retry-After) while the person's or the
    /// server's exports are busy.
    /// </summary>
    public static async Task<Results<FileStreamHttpResult, NotFound, ProblemHttpResult>> GetApprovedZipAsync(Guid galleryId, ClaimsPrincipal user, ApprovedExport export, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(export);
        ArgumentNullException.ThrowIfNull(context);
        if (await export.CreateAsync(user, galleryId, cancellationToken) is not { } result)
        {
            return TypedResults.NotFound();
        }
        if (result.Zip is not { } zip)
        {
            var refusal = result.Refusal!;
            if (refusal.StatusCode == StatusCodes.Status429TooManyRequests)
            {
                context.Response.Headers.RetryAfter = ApprovedExport.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }
            return TypedResults.Problem(refusal.Message, statusCode: refusal.StatusCode, title: refusal.Title);
        }
        // The slot is given back once the response has been sent (or abandoned), not when the file is built.
        context.Response.RegisterForDispose(zip.Slot);
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "private, no-store";
        // The result disposes the stream after sending, which deletes the temporary file.
        return TypedResults.File(zip.Content, "application/zip", zip.FileName);
    }
}

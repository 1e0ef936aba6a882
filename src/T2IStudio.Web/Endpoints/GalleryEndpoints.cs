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

    /// <summary>"Download approved": the gallery's approved images and their parameters, as a ZIP attachment.</summary>
    public static async Task<Results<FileStreamHttpResult, NotFound>> GetApprovedZipAsync(Guid galleryId, ClaimsPrincipal user, ApprovedExport export, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(export);
        ArgumentNullException.ThrowIfNull(context);
        if (await export.CreateAsync(user, galleryId, cancellationToken) is not { } zip)
        {
            return TypedResults.NotFound();
        }
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "private, no-store";
        // The result disposes the stream after sending, which deletes the temporary file.
        return TypedResults.File(zip.Content, "application/zip", zip.FileName);
    }
}

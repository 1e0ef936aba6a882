using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Images;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Endpoints;

/// <summary>
/// Image files for pages (cookie-authenticated; the token API is <c>/api/v1</c>). Each id is checked against the caller through the resource
/// rules; someone else's id answers 404, exactly like an id that does not exist.
/// </summary>
public static class ImageEndpoints
{
    private const string ImmutablePrivate = "private, max-age=31536000, immutable";

    /// <summary>Maps <c>/images/{id}</c> and <c>/images/{id}/thumb</c>.</summary>
    public static IEndpointRouteBuilder MapImageEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var images = app.MapGroup("/images");
        images.MapGet("/{id:guid}", GetImageAsync);
        images.MapGet("/{id:guid}/thumb", GetThumbnailAsync);
        return app;
    }

    /// <summary>The PNG with its metadata; <c>?download=true</c> makes it an attachment.</summary>
    public static async Task<Results<PhysicalFileHttpResult, NotFound>> GetImageAsync(Guid id, bool? download, ClaimsPrincipal user, ImageLibrary library, ImageStore store, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(context);
        if (await library.GetAsync(user, id, cancellationToken) is not { } image || !File.Exists(store.PathOf(image.FileKey)))
        {
            return TypedResults.NotFound();
        }
        var name = DownloadName(image);
        context.Response.Headers.CacheControl = ImmutablePrivate;
        if (download == true)
        {
            return TypedResults.PhysicalFile(store.PathOf(image.FileKey), "image/png", name, entityTag: Tag(image.Sha256));
        }
        context.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("inline") { FileNameStar = name }.ToString();
        return TypedResults.PhysicalFile(store.PathOf(image.FileKey), "image/png", entityTag: Tag(image.Sha256));
    }

    /// <summary>The 256-px WebP thumbnail made when the image was stored.</summary>
    public static async Task<Results<PhysicalFileHttpResult, NotFound>> GetThumbnailAsync(Guid id, ClaimsPrincipal user, ImageLibrary library, ImageStore store, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(context);
        // Made when the image was stored; made once now for an image that has none (any node, one shared folder).
        if (await library.GetAsync(user, id, cancellationToken) is not { } image || !await store.EnsureThumbnailAsync(image.FileKey, cancellationToken))
        {
            return TypedResults.NotFound();
        }
        context.Response.Headers.CacheControl = ImmutablePrivate;
        context.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("inline") { FileNameStar = Path.ChangeExtension(DownloadName(image), ".webp") }.ToString();
        return TypedResults.PhysicalFile(store.ThumbnailPathOf(image.FileKey), "image/webp", entityTag: Tag(image.Sha256 + "-thumb"));
    }

    /// <summary>A safe file name: never the prompt verbatim, only letters, digits and dashes.</summary>
    public static string DownloadName(GeneratedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var words = string.Join('-', image.Prompt.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string([.. w.Where(char.IsAsciiLetterOrDigit)]).ToLowerInvariant())
            .Where(w => w.Length > 0).Take(6));
        return $"t2i-{(words.Length > 0 ? words + "-" : "")}{image.Seed}.png";
    }

    private static EntityTagHeaderValue Tag(string value) => new($"\"{value}\"");
}

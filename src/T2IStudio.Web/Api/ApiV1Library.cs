using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Web.Endpoints;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Prompts;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Teams;

namespace T2IStudio.Web.Api;

/// <summary>
/// <c>/api/v1</c>: images, galleries and prompt history. Every id goes through the service that owns it with the
/// token's principal, so someone else's id answers 404 exactly like one that does not exist; a change the caller's
/// role does not allow (a viewer adding to a gallery) answers 403 with the service's words.
/// </summary>
public static class ApiV1Library
{
    /// <summary>Maps the image, gallery and prompt routes.</summary>
    public static RouteGroupBuilder MapApiV1Library(this RouteGroupBuilder v1)
    {
        ArgumentNullException.ThrowIfNull(v1);
        v1.MapGet("/images", ListImagesAsync).WithName("ListImages").WithTags("Images")
            .WithSummary("The caller's images, newest first, filtered as the gallery filters (search, model, since, favorites), cursor-paged.");
        v1.MapGet("/images/{id:guid}", GetImageAsync).WithName("GetImage").WithTags("Images")
            .WithSummary("One image's metadata, with the AUTOMATIC1111 parameters text and links to its files.");
        v1.MapGet("/images/{id:guid}/png", GetPngAsync).WithName("GetImagePng").WithTags("Images")
            .WithSummary("The PNG with its generation metadata, as an attachment.");
        v1.MapGet("/images/{id:guid}/thumbnail", GetThumbnailAsync).WithName("GetImageThumbnail").WithTags("Images")
            .WithSummary("The 256-px WebP thumbnail.");
        v1.MapDelete("/images/{id:guid}", DeleteImageAsync).WithName("DeleteImage").WithTags("Images")
            .WithSummary("Deletes one of the caller's images (a gallery that holds it keeps it until it lets it go).")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);
        v1.MapPut("/images/{id:guid}/favorite", StarAsync).WithName("StarImage").WithTags("Images")
            .WithSummary("Stars an image the caller can see (stars are each person's own).")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);
        v1.MapDelete("/images/{id:guid}/favorite", UnstarAsync).WithName("UnstarImage").WithTags("Images")
            .WithSummary("Takes the caller's star off an image.")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);

        v1.MapGet("/galleries", ListGalleriesAsync).WithName("ListGalleries").WithTags("Galleries")
            .WithSummary("The galleries the caller can see, with their role in each.");
        v1.MapGet("/galleries/{id:guid}/items", ListGalleryItemsAsync).WithName("ListGalleryItems").WithTags("Galleries")
            .WithSummary("A gallery's images, most recently added first, with the image filters, cursor-paged.");
        v1.MapPut("/galleries/{id:guid}/items/{imageId:guid}", AddGalleryItemAsync).WithName("AddGalleryItem").WithTags("Galleries")
            .WithSummary("Adds one of the caller's images to a gallery they may edit.")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);
        v1.MapDelete("/galleries/{id:guid}/items/{imageId:guid}", RemoveGalleryItemAsync).WithName("RemoveGalleryItem").WithTags("Galleries")
            .WithSummary("Takes an image out of a gallery the caller may edit; the image itself stays.")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);

        v1.MapGet("/prompts", ListPromptsAsync).WithName("ListPrompts").WithTags("Prompts")
            .WithSummary("The caller's prompt history, most recently used first, searched by text, cursor-paged.");
        v1.MapGet("/prompts/{id:guid}", GetPromptAsync).WithName("GetPrompt").WithTags("Prompts")
            .WithSummary("One entry of the caller's prompt history.");
        return v1;
    }

    /// <summary>The caller's images matching the gallery's filters, one page.</summary>
    public static async Task<Results<Ok<ImagePageDto>, ValidationProblem>> ListImagesAsync(string? search, string? model, string? since, string? favorites,
        string? cursor, string? limit, ClaimsPrincipal user, ImageLibrary library, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(library);
        if (!ApiPaging.TryRead(cursor, limit, out var page, out var problem) || !TryFilter(search, model, since, favorites, out var filter, out problem))
        {
            return problem;
        }
        var fetched = await library.AfterAsync(user, filter, page.After, page.Limit + 1, cancellationToken);
        var (items, next) = ApiPaging.Page(fetched, page.Limit, t => (t.CreatedAt, t.Id));
        return TypedResults.Ok(new ImagePageDto([.. items.Select(Summary)], next));
    }

    /// <summary>One image's metadata.</summary>
    public static async Task<Results<Ok<ImageDetailDto>, NotFound>> GetImageAsync(Guid id, ClaimsPrincipal user, ImageLibrary library, GalleryService galleries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(galleries);
        if (await library.GetAsync(user, id, cancellationToken) is not { } image)
        {
            return TypedResults.NotFound();
        }
        var stored = GenerationMetadata.ReadStoredRequest(image.RequestJson);
        var favorite = await library.IsFavoriteAsync(user, id, cancellationToken);
        var held = await galleries.HoldingAsync(user, id, cancellationToken);
        return TypedResults.Ok(new ImageDetailDto(image.Id, image.Prompt, image.NegativePrompt, image.Model, image.Seed, image.Width, image.Height,
            stored?.Steps, stored?.GuidanceScale, stored?.Scheduler.ToString(), image.CreatedAt, favorite, image.ParentImageId, held,
            image.Parameters, LinksOf(image.Id)));
    }

    /// <summary>The PNG, as an attachment under a safe name (the same file the gallery's download gives).</summary>
    public static Task<Results<PhysicalFileHttpResult, NotFound>> GetPngAsync(Guid id, ClaimsPrincipal user, ImageLibrary library, ImageStore store, HttpContext context, CancellationToken cancellationToken) =>
        ImageEndpoints.GetImageAsync(id, download: true, user, library, store, context, cancellationToken);

    /// <summary>The WebP thumbnail.</summary>
    public static Task<Results<PhysicalFileHttpResult, NotFound>> GetThumbnailAsync(Guid id, ClaimsPrincipal user, ImageLibrary library, ImageStore store, HttpContext context, CancellationToken cancellationToken) =>
        ImageEndpoints.GetThumbnailAsync(id, user, library, store, context, cancellationToken);

    /// <summary>Deletes one of the caller's images; 404 for anyone else's (teammates may see it but never delete it).</summary>
    public static async Task<Results<NoContent, NotFound>> DeleteImageAsync(Guid id, ClaimsPrincipal user, ImageLibrary library, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(library);
        return await library.DeleteAsync(user, id, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    /// <summary>Stars an image.</summary>
    public static Task<Results<NoContent, NotFound>> StarAsync(Guid id, ClaimsPrincipal user, ImageLibrary library, CancellationToken cancellationToken) =>
        SetFavoriteAsync(id, true, user, library, cancellationToken);

    /// <summary>Unstars an image.</summary>
    public static Task<Results<NoContent, NotFound>> UnstarAsync(Guid id, ClaimsPrincipal user, ImageLibrary library, CancellationToken cancellationToken) =>
        SetFavoriteAsync(id, false, user, library, cancellationToken);

    /// <summary>The galleries the caller can see.</summary>
    public static async Task<Ok<IReadOnlyList<GalleryDto>>> ListGalleriesAsync(ClaimsPrincipal user, GalleryService galleries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(galleries);
        var list = await galleries.ListAsync(user, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<GalleryDto>>([.. list.Select(g => new GalleryDto(g.Id, g.Name, g.TeamId, g.TeamName, g.MyRole.ToString(), g.ItemCount))]);
    }

    /// <summary>A gallery's images, one page.</summary>
    public static async Task<Results<Ok<ImagePageDto>, ValidationProblem, NotFound>> ListGalleryItemsAsync(Guid id, string? search, string? model, string? since, string? favorites,
        string? cursor, string? limit, ClaimsPrincipal user, GalleryService galleries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(galleries);
        if (!ApiPaging.TryRead(cursor, limit, out var page, out var problem) || !TryFilter(search, model, since, favorites, out var filter, out problem))
        {
            return problem;
        }
        if (await galleries.ItemsAfterAsync(user, id, filter, page.After, page.Limit + 1, cancellationToken) is not { } fetched)
        {
            return TypedResults.NotFound();
        }
        var (items, next) = ApiPaging.Page(fetched, page.Limit, t => (t.AddedAt, t.Image.Id));
        return TypedResults.Ok(new ImagePageDto([.. items.Select(i => Summary(i.Image))], next));
    }

    /// <summary>Adds one of the caller's images to a gallery.</summary>
    public static async Task<Results<NoContent, NotFound, ProblemHttpResult>> AddGalleryItemAsync(Guid id, Guid imageId, ClaimsPrincipal user, GalleryService galleries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(galleries);
        return Answer(await galleries.AddAsync(user, id, imageId, cancellationToken));
    }

    /// <summary>Takes an image out of a gallery.</summary>
    public static async Task<Results<NoContent, NotFound, ProblemHttpResult>> RemoveGalleryItemAsync(Guid id, Guid imageId, ClaimsPrincipal user, GalleryService galleries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(galleries);
        return Answer(await galleries.RemoveAsync(user, id, imageId, cancellationToken));
    }

    /// <summary>The caller's prompt history, one page.</summary>
    public static async Task<Results<Ok<PromptPageDto>, ValidationProblem>> ListPromptsAsync(string? search, string? cursor, string? limit,
        ClaimsPrincipal user, PromptHistory history, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (!ApiPaging.TryRead(cursor, limit, out var page, out var problem))
        {
            return problem;
        }
        var fetched = await history.AfterAsync(user, search, page.After, page.Limit + 1, cancellationToken);
        var (items, next) = ApiPaging.Page(fetched, page.Limit, p => (p.LastUsedAt, p.Id));
        return TypedResults.Ok(new PromptPageDto([.. items.Select(p => new PromptEntryDto(p.Id, p.Text, p.NegativeText, p.UseCount, p.LastUsedAt))], next));
    }

    /// <summary>One prompt-history entry.</summary>
    public static async Task<Results<Ok<PromptEntryDto>, NotFound>> GetPromptAsync(Guid id, ClaimsPrincipal user, PromptHistory history, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(history);
        return await history.GetAsync(user, id, cancellationToken) is { } p
            ? TypedResults.Ok(new PromptEntryDto(p.Id, p.Text, p.NegativeText, p.UseCount, p.LastUsedAt))
            : TypedResults.NotFound();
    }

    private static async Task<Results<NoContent, NotFound>> SetFavoriteAsync(Guid id, bool favorite, ClaimsPrincipal user, ImageLibrary library, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(library);
        return await library.SetFavoriteAsync(user, id, favorite, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    /// <summary>A gallery change as HTTP: done → 204, a gallery or image the caller cannot see → 404, a role refusal → 403 in the service's words.</summary>
    private static Results<NoContent, NotFound, ProblemHttpResult> Answer(ChangeResult result)
    {
        if (result.NotFound)
        {
            return TypedResults.NotFound();
        }
        return result.Errors.Count > 0
            ? TypedResults.Problem(detail: string.Join(" ", result.Errors), statusCode: StatusCodes.Status403Forbidden, title: "Your role in this gallery does not allow that.")
            : TypedResults.NoContent();
    }

    private static bool TryFilter(string? search, string? model, string? since, string? favorites, out GalleryFilter filter, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out ValidationProblem? problem)
    {
        filter = new GalleryFilter();
        problem = null;
        DateTimeOffset? from = null;
        if (!string.IsNullOrWhiteSpace(since))
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                problem = ApiProblems.Invalid("since", "Since must be an ISO 8601 date-time, such as 2026-01-31T12:00:00Z.");
                return false;
            }
            from = parsed;
        }
        var favoritesOnly = false;
        if (!string.IsNullOrEmpty(favorites) && !bool.TryParse(favorites, out favoritesOnly))
        {
            problem = ApiProblems.Invalid("favorites", "Favorites must be true or false.");
            return false;
        }
        filter = new GalleryFilter(search, string.IsNullOrWhiteSpace(model) ? null : model, from, favoritesOnly);
        return true;
    }

    private static ImageSummaryDto Summary(ImageTile tile) =>
        new(tile.Id, tile.Prompt, tile.Model, tile.Width, tile.Height, tile.CreatedAt, tile.IsFavorite, LinksOf(tile.Id));

    private static ImageLinksDto LinksOf(Guid id) =>
        new($"{ApiEndpoints.V1Prefix}/images/{id}/png", $"{ApiEndpoints.V1Prefix}/images/{id}/thumbnail");
}

namespace T2IStudio.Web.Api;

/// <summary>Where an image's files are.</summary>
/// <param name="Png">The PNG with its generation metadata (an attachment).</param>
/// <param name="Thumbnail">The 256-px WebP thumbnail.</param>
public sealed record ImageLinksDto(string Png, string Thumbnail);

/// <summary>An image in a list.</summary>
/// <param name="Id">The image.</param>
/// <param name="Prompt">Its prompt.</param>
/// <param name="Model">Its model.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="IsFavorite">Whether the caller starred it.</param>
/// <param name="Links">Its files.</param>
public sealed record ImageSummaryDto(Guid Id, string Prompt, string Model, int Width, int Height, DateTimeOffset CreatedAt, bool IsFavorite, ImageLinksDto Links);

/// <summary>A page of images.</summary>
/// <param name="Items">The images, newest first (a gallery's: most recently added first).</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record ImagePageDto(IReadOnlyList<ImageSummaryDto> Items, string? NextCursor);

/// <summary>One image with everything it was made with.</summary>
/// <param name="Id">The image.</param>
/// <param name="Prompt">The prompt.</param>
/// <param name="NegativePrompt">The negative prompt.</param>
/// <param name="Model">The model id.</param>
/// <param name="Seed">This image's seed.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Steps">Denoising steps (null when the stored request cannot be read).</param>
/// <param name="Guidance">Guidance scale (null when the stored request cannot be read).</param>
/// <param name="Scheduler">The sampler's name, as <c>scheduler</c> takes it on submit (null when unreadable).</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="IsFavorite">Whether the caller starred it.</param>
/// <param name="ParentImageId">The image it was made from (img2img, inpaint), or null.</param>
/// <param name="GalleryIds">The galleries the caller can see that hold it.</param>
/// <param name="Parameters">The AUTOMATIC1111 <c>parameters</c> text stored in the PNG.</param>
/// <param name="Links">Its files.</param>
public sealed record ImageDetailDto(Guid Id, string Prompt, string NegativePrompt, string Model, ulong Seed, int Width, int Height,
    int? Steps, double? Guidance, string? Scheduler, DateTimeOffset CreatedAt, bool IsFavorite, Guid? ParentImageId,
    IReadOnlyList<Guid> GalleryIds, string Parameters, ImageLinksDto Links);

/// <summary>A gallery the caller can see.</summary>
/// <param name="Id">The gallery.</param>
/// <param name="Name">Its name.</param>
/// <param name="TeamId">Its team, or null for a private gallery.</param>
/// <param name="TeamName">Its team's name, or null.</param>
/// <param name="MyRole">The caller's role: <c>Viewer</c>, <c>Editor</c> or <c>Owner</c> (Owner of their private galleries).</param>
/// <param name="ItemCount">Images in it.</param>
public sealed record GalleryDto(Guid Id, string Name, Guid? TeamId, string? TeamName, string MyRole, int ItemCount);

/// <summary>An entry of the caller's prompt history.</summary>
/// <param name="Id">The entry.</param>
/// <param name="Text">The prompt.</param>
/// <param name="NegativeText">The negative prompt.</param>
/// <param name="UseCount">Jobs that used it.</param>
/// <param name="LastUsedAt">When a job last used it.</param>
public sealed record PromptEntryDto(Guid Id, string Text, string NegativeText, int UseCount, DateTimeOffset LastUsedAt);

/// <summary>A page of prompt history.</summary>
/// <param name="Items">The entries, most recently used first.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record PromptPageDto(IReadOnlyList<PromptEntryDto> Items, string? NextCursor);

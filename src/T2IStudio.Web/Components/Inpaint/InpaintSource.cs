using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Components.Inpaint;

/// <summary>
/// The image being inpainted: one of the person's gallery images (by id) or an upload (kept on the server at its
/// reduced size; the browser shows the original file from an object URL, drawn at that size, so the mask lines up).
/// </summary>
/// <param name="Width">Width in pixels (the mask's width).</param>
/// <param name="Height">Height in pixels (the mask's height).</param>
/// <param name="Url">Where the browser loads it from.</param>
/// <param name="Label">Where it came from, in words.</param>
/// <param name="ImageId">The gallery image, or null for an upload.</param>
/// <param name="Upload">The upload, or null for a gallery image.</param>
internal sealed record InpaintSource(int Width, int Height, string Url, string Label, Guid? ImageId, InpaintUpload? Upload)
{
    /// <summary>A gallery image the person may see.</summary>
    public static InpaintSource FromGallery(GeneratedImage image) => new(image.Width, image.Height, $"/images/{image.Id}", "From your gallery", image.Id, null);

    /// <summary>An upload the server accepted.</summary>
    public static InpaintSource FromUpload(InpaintUpload upload) => new(upload.Image.Width, upload.Image.Height, upload.Url, upload.Label, null, upload);
}

using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Galleries;

/// <summary>Gallery limits (section <c>Galleries</c>).</summary>
public sealed record GalleryOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Galleries";

    /// <summary>
    /// The most approved images one "Download approved" ZIP holds. Every image is copied into a temporary file on
    /// the server before the download starts, so a gallery above it is refused with a message instead.
    /// </summary>
    [Range(1, 1_000_000, ErrorMessage = "Galleries:MaxApprovedExportImages must be between 1 and 1000000.")]
    public int MaxApprovedExportImages { get; init; } = 2000;
}

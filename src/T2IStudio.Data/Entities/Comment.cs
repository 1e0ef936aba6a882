namespace T2IStudio.Data.Entities;

/// <summary>A text comment on an image, by someone who may comment there.</summary>
public sealed class Comment
{
    /// <summary>The comment's id.</summary>
    public Guid Id { get; set; }

    /// <summary>The image.</summary>
    public Guid ImageId { get; set; }

    /// <summary>The image.</summary>
    public GeneratedImage? Image { get; set; }

    /// <summary>Who wrote it; only they edit or delete it.</summary>
    public string AuthorId { get; set; } = "";

    /// <summary>The author's account.</summary>
    public AppUser? Author { get; set; }

    /// <summary>The text (1–2,000 characters); empty for a review entry.</summary>
    public string Text { get; set; } = "";

    /// <summary>When it was written (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it was last edited, if ever.</summary>
    public DateTimeOffset? EditedAt { get; set; }

    /// <summary>
    /// A review entry ("Ana approved this"), written when someone set the image's review state in
    /// <see cref="GalleryId"/>; null for a comment people wrote. Review entries are never edited.
    /// </summary>
    public ReviewState? Review { get; set; }

    /// <summary>The reviewed gallery of a review entry (null for a comment, or once that gallery is deleted).</summary>
    public Guid? GalleryId { get; set; }

    /// <summary>The reviewed gallery.</summary>
    public Gallery? Gallery { get; set; }
}

namespace T2IStudio.Data.Entities;

/// <summary>A named collection of images, owned by one person (private) or by a team (its members see it).</summary>
public sealed class Gallery
{
    /// <summary>The gallery's id.</summary>
    public Guid Id { get; set; }

    /// <summary>Its name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The person who owns a private gallery; null for a team gallery.</summary>
    public string? OwnerUserId { get; set; }

    /// <summary>The owner's account.</summary>
    public AppUser? OwnerUser { get; set; }

    /// <summary>The team that owns a team gallery; null for a private one.</summary>
    public Guid? TeamId { get; set; }

    /// <summary>The team.</summary>
    public Team? Team { get; set; }

    /// <summary>When it was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// Its owners switched review on: every item carries a <see cref="Entities.ReviewState"/> (new items start as
    /// <see cref="ReviewState.NeedsReview"/>) that owners and editors set. Team galleries only.
    /// </summary>
    public bool ReviewRequired { get; set; }

    /// <summary>Its images.</summary>
    public List<GalleryItem> Items { get; } = [];
}

/// <summary>Where an item of a reviewed gallery stands.</summary>
public enum ReviewState
{
    /// <summary>Nobody has decided yet (the default for new items while review is on).</summary>
    NeedsReview = 0,

    /// <summary>An owner or editor approved it.</summary>
    Approved = 1,

    /// <summary>An owner or editor asked for changes.</summary>
    ChangesRequested = 2,
}

/// <summary>An image in a gallery: a reference, never a copy of the file.</summary>
public sealed class GalleryItem
{
    /// <summary>The gallery.</summary>
    public Guid GalleryId { get; set; }

    /// <summary>The gallery.</summary>
    public Gallery? Gallery { get; set; }

    /// <summary>The image.</summary>
    public Guid ImageId { get; set; }

    /// <summary>The image.</summary>
    public GeneratedImage? Image { get; set; }

    /// <summary>Who added it.</summary>
    public string AddedById { get; set; } = "";

    /// <summary>When it was added (UTC).</summary>
    public DateTimeOffset AddedAt { get; set; }

    /// <summary>Its review state; null when it was added while review was off (reads as Needs review once it is on).</summary>
    public ReviewState? ReviewState { get; set; }

    /// <summary>Who last set <see cref="ReviewState"/>; null until someone did.</summary>
    public string? ReviewedById { get; set; }

    /// <summary>When <see cref="ReviewState"/> was last set (UTC).</summary>
    public DateTimeOffset? ReviewedAt { get; set; }
}

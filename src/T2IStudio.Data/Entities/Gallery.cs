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

    /// <summary>Its images.</summary>
    public List<GalleryItem> Items { get; } = [];
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
}

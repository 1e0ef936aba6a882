namespace T2IStudio.Data.Entities;

/// <summary>One person's star on an image (their own, or one shared with their team).</summary>
public sealed class Favorite
{
    /// <summary>Who starred it.</summary>
    public string UserId { get; set; } = "";

    /// <summary>The image.</summary>
    public Guid ImageId { get; set; }

    /// <summary>The image.</summary>
    public GeneratedImage? Image { get; set; }

    /// <summary>When (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }
}

namespace T2IStudio.Data.Entities;

/// <summary>Something a person was told (their image reviewed, say), kept until they have seen it.</summary>
public sealed class Notification
{
    /// <summary>The notification's id.</summary>
    public Guid Id { get; set; }

    /// <summary>The person told.</summary>
    public string UserId { get; set; } = "";

    /// <summary>When (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>What happened, in words for them.</summary>
    public string Text { get; set; } = "";

    /// <summary>A local link to what it is about ("/gallery?g=…&amp;image=…"), if any.</summary>
    public string? Link { get; set; }

    /// <summary>When they marked it read; null while unread.</summary>
    public DateTimeOffset? ReadAt { get; set; }
}

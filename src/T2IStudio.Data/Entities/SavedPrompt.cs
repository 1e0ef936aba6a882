namespace T2IStudio.Data.Entities;

/// <summary>A prompt someone submitted, once per distinct text: their searchable prompt history.</summary>
public sealed class SavedPrompt : IOwnedResource
{
    /// <summary>The entry's id.</summary>
    public Guid Id { get; set; }

    /// <summary>Whose history it is in.</summary>
    public string OwnerId { get; set; } = "";

    /// <summary>The owner's account.</summary>
    public AppUser? Owner { get; set; }

    /// <summary>The prompt.</summary>
    public string Text { get; set; } = "";

    /// <summary>The negative prompt.</summary>
    public string NegativeText { get; set; } = "";

    /// <summary>SHA-256 of prompt and negative prompt: one entry per distinct pair and owner.</summary>
    public string Hash { get; set; } = "";

    /// <summary>First used (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Last used (UTC); the history lists the most recent first.</summary>
    public DateTimeOffset LastUsedAt { get; set; }

    /// <summary>How many jobs used it.</summary>
    public int UseCount { get; set; }
}

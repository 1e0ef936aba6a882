namespace T2IStudio.Data.Entities;

/// <summary>A stored image: a PNG file keyed by a GUID, and everything needed to make it again.</summary>
public sealed class GeneratedImage : IOwnedResource
{
    /// <summary>The image's id.</summary>
    public Guid Id { get; set; }

    /// <summary>Who made it; only they see it until it is shared.</summary>
    public string OwnerId { get; set; } = "";

    /// <summary>The owner's account.</summary>
    public AppUser? Owner { get; set; }

    /// <summary>The job that made it.</summary>
    public Guid JobId { get; set; }

    /// <summary>The job.</summary>
    public Job? Job { get; set; }

    /// <summary>Its place in the job's batch.</summary>
    public int BatchIndex { get; set; }

    /// <summary>The seed that reproduces it.</summary>
    public ulong Seed { get; set; }

    /// <summary>The model id.</summary>
    public string Model { get; set; } = "";

    /// <summary>The first ten hex digits of the model's SHA-256 (A1111's "Model hash").</summary>
    public string? ModelHash { get; set; }

    /// <summary>The prompt.</summary>
    public string Prompt { get; set; } = "";

    /// <summary>The negative prompt.</summary>
    public string NegativePrompt { get; set; } = "";

    /// <summary>Width in pixels.</summary>
    public int Width { get; set; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; set; }

    /// <summary>The A1111 <c>parameters</c> text, as embedded in the PNG.</summary>
    public string Parameters { get; set; } = "";

    /// <summary>The engine's stored-request JSON for this one image (its own seed, batch of one).</summary>
    public string RequestJson { get; set; } = "";

    /// <summary>The file's key under the image store; never a user-supplied name.</summary>
    public Guid FileKey { get; set; }

    /// <summary>SHA-256 of the PNG file, hex; also its ETag.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>The PNG's size in bytes.</summary>
    public long SizeBytes { get; set; }

    /// <summary>When it was stored (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// When its owner deleted it while a gallery still held it: it left the owner's images but stays (row and
    /// file) until the last gallery lets it go.
    /// </summary>
    public DateTimeOffset? RemovedByOwnerAt { get; set; }

    /// <summary>The image it was derived from (inpainting, variations), if any.</summary>
    public Guid? ParentImageId { get; set; }

    /// <summary>The key of the mask file an inpainting used, if any.</summary>
    public Guid? MaskFileKey { get; set; }
}

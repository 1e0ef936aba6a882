namespace T2IStudio.Data.Entities;

/// <summary>What a personal access token may do.</summary>
public enum ApiTokenScope
{
    /// <summary>Read the owner's jobs, images, galleries and prompts.</summary>
    Read = 0,

    /// <summary>Read, and submit and cancel jobs (and change images and galleries as the owner's roles allow).</summary>
    ReadAndGenerate = 1,
}

/// <summary>
/// A personal access token for the API (<c>/api/v1</c>, <c>/sdapi/v1</c>), made on Account → API tokens.
/// Only its SHA-256 is stored: the secret is shown once, when it is made. It acts as its owner, never more.
/// </summary>
public sealed class ApiToken : IOwnedResource
{
    /// <summary>The token's id.</summary>
    public Guid Id { get; set; }

    /// <summary>Whose it is.</summary>
    public string OwnerId { get; set; } = "";

    /// <summary>The owner.</summary>
    public AppUser? Owner { get; set; }

    /// <summary>What the owner called it ("notebook", "discord bot").</summary>
    public string Name { get; set; } = "";

    /// <summary>What it may do.</summary>
    public ApiTokenScope Scope { get; set; }

    /// <summary>Lower-case hex SHA-256 of the secret.</summary>
    public string SecretHash { get; set; } = "";

    /// <summary>The secret's first characters, so its owner can tell tokens apart.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>When it was made.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it stops working; null for never.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>When a request last used it (updated at most once a minute).</summary>
    public DateTimeOffset? LastUsedAt { get; set; }

    /// <summary>When it was revoked; a revoked token authenticates nothing.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>Who revoked it (the owner, or an admin).</summary>
    public string? RevokedById { get; set; }

    /// <summary>
    /// The model the AUTOMATIC1111 API's <c>options</c> selected (<c>sd_model_checkpoint</c>) for this token's later
    /// calls; null for the default model.
    /// </summary>
    public string? Model { get; set; }
}

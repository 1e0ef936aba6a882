namespace T2IStudio.Data.Entities;

/// <summary>
/// A named key a remote worker presents to join (<c>/hubs/workers</c>), created on the Admin page.
/// Only its SHA-256 is stored: the key itself is shown once, when it is made.
/// </summary>
public sealed class WorkerKey
{
    /// <summary>The key's id.</summary>
    public Guid Id { get; set; }

    /// <summary>What the admin called it ("render box 2").</summary>
    public string Name { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the key.</summary>
    public string KeyHash { get; set; } = "";

    /// <summary>The key's first characters, so an admin can tell keys apart.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Who made it.</summary>
    public string CreatedById { get; set; } = "";

    /// <summary>When it was made.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When a worker last joined with it.</summary>
    public DateTimeOffset? LastUsedAt { get; set; }

    /// <summary>When it was revoked; a revoked key lets no worker in, and workers using it are disconnected.</summary>
    public DateTimeOffset? RevokedAt { get; set; }
}

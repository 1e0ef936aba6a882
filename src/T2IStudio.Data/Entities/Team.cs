namespace T2IStudio.Data.Entities;

/// <summary>What a member may do in a team.</summary>
public enum TeamRole
{
    /// <summary>Sees the team's galleries and downloads from them.</summary>
    Viewer = 0,

    /// <summary>Also adds, removes and comments.</summary>
    Editor = 1,

    /// <summary>Also renames and deletes, and manages members.</summary>
    Owner = 2,
}

/// <summary>A group of people who share galleries.</summary>
public sealed class Team
{
    /// <summary>The team's id.</summary>
    public Guid Id { get; set; }

    /// <summary>The team's name, as its members see it.</summary>
    public string Name { get; set; } = "";

    /// <summary>When it was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Optimistic concurrency token, replaced on every change of the team or its members.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();

    /// <summary>
    /// The models its galleries may be generated into, by id; null follows the server's default (all models unless
    /// an admin narrowed it).
    /// </summary>
    public List<string>? AllowedModels { get; set; }

    /// <summary>
    /// Images per UTC day that jobs saving into its galleries may make; 0 for no limit, null to follow the server's default.
    /// </summary>
    public int? DailyImageLimit { get; set; }

    /// <summary>Its members.</summary>
    public List<TeamMember> Members { get; } = [];
}

/// <summary>A person's place in a team.</summary>
public sealed class TeamMember
{
    /// <summary>The team.</summary>
    public Guid TeamId { get; set; }

    /// <summary>The team.</summary>
    public Team? Team { get; set; }

    /// <summary>The member's user id.</summary>
    public string UserId { get; set; } = "";

    /// <summary>The member's account.</summary>
    public AppUser? User { get; set; }

    /// <summary>What they may do.</summary>
    public TeamRole Role { get; set; }

    /// <summary>When they joined (UTC).</summary>
    public DateTimeOffset JoinedAt { get; set; }
}

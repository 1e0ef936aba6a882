namespace T2IStudio.Data.Entities;

/// <summary>What happened in a team, as its Activity tab lists it.</summary>
public enum TeamActivityKind
{
    /// <summary>A job saved its images into one of the team's galleries.</summary>
    Generated = 0,

    /// <summary>Someone added an image to one of its galleries.</summary>
    Added = 1,

    /// <summary>Someone took an image out of one of its galleries.</summary>
    Removed = 2,

    /// <summary>Someone set an image's review state (<see cref="TeamActivity.Detail"/> names it).</summary>
    Reviewed = 3,

    /// <summary>Someone commented on an image in one of its galleries.</summary>
    Commented = 4,

    /// <summary>Someone joined the team (<see cref="TeamActivity.SubjectUserId"/>).</summary>
    MemberJoined = 5,

    /// <summary>Someone left the team or was removed (<see cref="TeamActivity.SubjectUserId"/>).</summary>
    MemberLeft = 6,
}

/// <summary>One entry of a team's activity feed: who did what, where, when. Written once, never changed.</summary>
public sealed class TeamActivity
{
    /// <summary>The entry's id.</summary>
    public Guid Id { get; set; }

    /// <summary>The team.</summary>
    public Guid TeamId { get; set; }

    /// <summary>When it happened (UTC); the feed is newest first.</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>Who did it.</summary>
    public string ActorId { get; set; } = "";

    /// <summary>Who did it.</summary>
    public AppUser? Actor { get; set; }

    /// <summary>What happened.</summary>
    public TeamActivityKind Kind { get; set; }

    /// <summary>The gallery, when it happened in one (null once that gallery is deleted).</summary>
    public Guid? GalleryId { get; set; }

    /// <summary>The gallery's name when it happened, so the entry still reads after a rename or delete.</summary>
    public string? GalleryName { get; set; }

    /// <summary>The image concerned, if one (the first of a job's images for <see cref="TeamActivityKind.Generated"/>).</summary>
    public Guid? ImageId { get; set; }

    /// <summary>The member who joined or left, for membership entries.</summary>
    public string? SubjectUserId { get; set; }

    /// <summary>
    /// A short detail: the review state's name for <see cref="TeamActivityKind.Reviewed"/>, a comment's first words,
    /// the number of images generated, the member's name for joins and leaves.
    /// </summary>
    public string? Detail { get; set; }
}

using System.Text.Json.Serialization;

namespace T2IStudio.Web.Realtime;

/// <summary>
/// Something one person's open pages should know about; delivered only to them. Travels between web nodes as
/// JSON (serialised as this base type): the <c>kind</c> discriminator names the record.
/// </summary>
/// <param name="RecipientId">The person it is for.</param>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(JobQueued), "job-queued")]
[JsonDerivedType(typeof(JobStarted), "job-started")]
[JsonDerivedType(typeof(JobProgress), "job-progress")]
[JsonDerivedType(typeof(JobCompleted), "job-completed")]
[JsonDerivedType(typeof(JobFailed), "job-failed")]
[JsonDerivedType(typeof(JobCanceled), "job-canceled")]
[JsonDerivedType(typeof(GalleryChanged), "gallery-changed")]
[JsonDerivedType(typeof(TeamChanged), "team-changed")]
[JsonDerivedType(typeof(GalleryUpdated), "gallery-updated")]
[JsonDerivedType(typeof(CommentsChanged), "comments-changed")]
[JsonDerivedType(typeof(PresenceChanged), "presence-changed")]
[JsonDerivedType(typeof(JobStandingChanged), "job-standing-changed")]
[JsonDerivedType(typeof(Teams.TeamInvitationsChanged), "team-invitations-changed")]
[JsonDerivedType(typeof(ReviewChanged), "review-changed")]
[JsonDerivedType(typeof(TeamActivityAdded), "team-activity-added")]
[JsonDerivedType(typeof(NotificationAdded), "notification-added")]
[JsonDerivedType(typeof(NotificationsRead), "notifications-read")]
[JsonDerivedType(typeof(StylesChanged), "styles-changed")]
public abstract record StudioEvent(string RecipientId);

/// <summary>Something happened to a job; delivered to each person who follows it, one event per recipient.</summary>
/// <param name="JobId">The job.</param>
/// <param name="RecipientId">The person told: its owner, or a member of the team whose gallery it saves into.</param>
public abstract record JobEvent(Guid JobId, string RecipientId) : StudioEvent(RecipientId);

/// <summary>The job is waiting in the queue.</summary>
public sealed record JobQueued(Guid JobId, string RecipientId) : JobEvent(JobId, RecipientId);

/// <summary>A worker started the job.</summary>
public sealed record JobStarted(Guid JobId, string RecipientId) : JobEvent(JobId, RecipientId);

/// <summary>Steps finished, with a small JPEG preview at most four times a second.</summary>
/// <param name="JobId">The job.</param>
/// <param name="RecipientId">The person told: its owner, or a member of the team whose gallery it saves into.</param>
/// <param name="Step">Steps finished.</param>
/// <param name="TotalSteps">Steps in the run.</param>
/// <param name="PreviewJpeg">A JPEG of the first image as it forms (≤ 64 KB), or null this time.</param>
public sealed record JobProgress(Guid JobId, string RecipientId, int Step, int TotalSteps, byte[]? PreviewJpeg) : JobEvent(JobId, RecipientId);

/// <summary>The job's images are stored.</summary>
public sealed record JobCompleted(Guid JobId, string RecipientId, IReadOnlyList<Guid> ImageIds) : JobEvent(JobId, RecipientId);

/// <summary>The job failed; <paramref name="Error"/> says why, for its owner.</summary>
public sealed record JobFailed(Guid JobId, string RecipientId, string Error) : JobEvent(JobId, RecipientId);

/// <summary>The job was cancelled.</summary>
public sealed record JobCanceled(Guid JobId, string RecipientId) : JobEvent(JobId, RecipientId);

/// <summary>Images were added to or removed from the owner's gallery.</summary>
public sealed record GalleryChanged(Guid JobId, string RecipientId) : JobEvent(JobId, RecipientId);

/// <summary>A team the person is (or was) in changed: members, roles or name.</summary>
/// <param name="TeamId">The team.</param>
/// <param name="RecipientId">The person told.</param>
/// <param name="Removed">They are no longer a member.</param>
public sealed record TeamChanged(Guid TeamId, string RecipientId, bool Removed) : StudioEvent(RecipientId);

/// <summary>Images were added to or removed from a named gallery the person can see.</summary>
/// <param name="GalleryId">The gallery.</param>
/// <param name="RecipientId">The person told (its owner, or each member of its team).</param>
public sealed record GalleryUpdated(Guid GalleryId, string RecipientId) : StudioEvent(RecipientId);

/// <summary>Comments on an image the person can see changed.</summary>
/// <param name="ImageId">The image.</param>
/// <param name="RecipientId">The person told.</param>
public sealed record CommentsChanged(Guid ImageId, string RecipientId) : StudioEvent(RecipientId);

/// <summary>Someone opened or left a gallery the person can see.</summary>
/// <param name="GalleryId">The gallery.</param>
/// <param name="RecipientId">The person told.</param>
public sealed record PresenceChanged(Guid GalleryId, string RecipientId) : StudioEvent(RecipientId);

/// <summary>
/// A waiting or running job's place in line, estimate or worker changed (other people's jobs move it too);
/// pushed about once a second while it changes, so no page has to ask.
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="RecipientId">The person told: its owner, or a member of the team whose gallery it saves into.</param>
/// <param name="Standing">Where it stands now.</param>
public sealed record JobStandingChanged(Guid JobId, string RecipientId, Jobs.QueueStanding Standing) : JobEvent(JobId, RecipientId);

/// <summary>Someone set the review state of an image in a reviewed gallery the person sees.</summary>
/// <param name="GalleryId">The gallery.</param>
/// <param name="ImageId">The image.</param>
/// <param name="RecipientId">The person told (each member of the gallery's team).</param>
public sealed record ReviewChanged(Guid GalleryId, Guid ImageId, string RecipientId) : StudioEvent(RecipientId);

/// <summary>A team the person is in has a new activity entry.</summary>
/// <param name="TeamId">The team.</param>
/// <param name="RecipientId">The member told.</param>
public sealed record TeamActivityAdded(Guid TeamId, string RecipientId) : StudioEvent(RecipientId);

/// <summary>The person has a new notification.</summary>
/// <param name="NotificationId">The notification.</param>
/// <param name="Text">What it says.</param>
/// <param name="Link">A local link to what it is about, if any.</param>
/// <param name="RecipientId">The person told.</param>
public sealed record NotificationAdded(Guid NotificationId, string Text, string? Link, string RecipientId) : StudioEvent(RecipientId);

/// <summary>Styles the person may use changed: their own (<paramref name="TeamId"/> null) or a team's they are in.</summary>
/// <param name="TeamId">The team whose styles changed, or null for the person's own.</param>
/// <param name="RecipientId">The person told.</param>
public sealed record StylesChanged(Guid? TeamId, string RecipientId) : StudioEvent(RecipientId);

/// <summary>The person marked notifications read on one of their pages; their other pages bring the badge down.</summary>
/// <param name="RecipientId">The person told.</param>
public sealed record NotificationsRead(string RecipientId) : StudioEvent(RecipientId);

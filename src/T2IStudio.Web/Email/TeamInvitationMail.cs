using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Email;

/// <summary>An invitation that was just saved, as its email tells it.</summary>
/// <param name="Id">The invitation (its link opens it).</param>
/// <param name="Email">The address invited.</param>
/// <param name="Role">The role it offers.</param>
/// <param name="TeamName">The team's name.</param>
/// <param name="InviterId">The owner who sent it.</param>
/// <param name="InviterName">Their display name.</param>
/// <param name="HasAccount">The address already has an account (the link opens the invitation instead of registration).</param>
/// <param name="InviterConfirmed">The owner's own email address is confirmed (only then does the server write to others for them).</param>
public sealed record InvitationToSend(Guid Id, string Email, TeamRole Role, string TeamName, string InviterId, string InviterName, bool HasAccount, bool InviterConfirmed);

/// <summary>
/// Emails a team invitation to the address invited, with a link that opens it: the Teams page for an address with
/// an account, registration (returning to the Teams page) for one without. The email carries nothing secret: the
/// invitation is bound to the address, so only its account can accept it. As any owner can make the server write
/// to any address, invitation emails are rationed per owner: one per address per <see cref="ResendAfter"/>
/// (re-inviting or revoking and inviting again within it sends nothing new) and <see cref="MaxPerOwnerPerHour"/>
/// in an hour, and <see cref="MaxPerServerPerHour"/> from the whole server (many throwaway owners cannot add up to a
/// spam run). Only an owner whose own address is confirmed makes the server write to anyone, and what the owner
/// wrote (team name, their name) stays in the body, out of the subject a spam filter and an inbox list show first.
/// The invitation itself is made either way and waits on the invitee's Teams page. The ration is kept in this
/// node's memory: a cluster rations per node.
/// </summary>
public sealed partial class TeamInvitationMail(StudioMail mail, TimeProvider time, ILogger<TeamInvitationMail> logger)
{
    /// <summary>How long before the same owner's invitation to the same address is emailed again.</summary>
    public static readonly TimeSpan ResendAfter = TimeSpan.FromMinutes(10);

    /// <summary>Most invitation emails one owner sends in an hour.</summary>
    public const int MaxPerOwnerPerHour = 20;

    /// <summary>Most invitation emails this node sends in an hour, all owners together.</summary>
    public const int MaxPerServerPerHour = 200;

    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Owner, string Address), DateTimeOffset> _lastTo = [];
    private readonly Dictionary<string, Queue<DateTimeOffset>> _sentBy = new(StringComparer.Ordinal);
    private readonly Queue<DateTimeOffset> _sentByServer = new();

    /// <summary>True when email is on.</summary>
    public bool IsEnabled => mail.IsEnabled;

    /// <summary>
    /// Emails <paramref name="invitation"/> (after it is saved) and returns the sentence the owner is told about
    /// the email, or null when email is off.
    /// </summary>
    public string? Send(InvitationToSend invitation)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        if (!mail.IsEnabled)
        {
            return null;
        }
        if (!invitation.InviterConfirmed)
        {
            return "No email was sent, because your own email address is not confirmed yet: confirm it from your account page. They still see the invitation on their Teams page.";
        }
        switch (Ration(invitation.InviterId, invitation.Email.ToUpperInvariant()))
        {
            case Rationed.Recently:
                return "An email went to that address a few minutes ago, so no new one is sent.";
            case Rationed.TooMany:
                return $"You have sent {MaxPerOwnerPerHour} invitation emails this hour, so this one goes without an email: it waits on their Teams page.";
            case Rationed.ServerBusy:
                return "This server has sent as many invitation emails as it may this hour, so this one goes without an email: it waits on their Teams page.";
        }
        try
        {
            return mail.Send("TeamInvitation", invitation.Email, null, Values(invitation))
                ? "An email is on its way."
                : "The email could not be queued; they still see the invitation on their Teams page.";
        }
        catch (InvalidOperationException ex)
        {
            // The invitation is saved: the owner hears that only its email failed (settings changed while running).
            LogFailed(logger, ex);
            return "The email could not be sent; they still see the invitation on their Teams page.";
        }
    }

    private Dictionary<string, string> Values(InvitationToSend invitation)
    {
        var openInvitation = $"/teams?invitation={invitation.Id}";
        var link = invitation.HasAccount
            ? mail.Link(openInvitation)
            : mail.Link($"/Account/Register?ReturnUrl={Uri.EscapeDataString(openInvitation)}");
        return new Dictionary<string, string>
        {
            ["inviter"] = invitation.InviterName,
            ["team"] = invitation.TeamName,
            ["role"] = invitation.Role switch { TeamRole.Viewer => "a viewer", TeamRole.Editor => "an editor", _ => "an owner" },
            ["roleMeaning"] = invitation.Role switch
            {
                TeamRole.Viewer => "you would see and download the images in the team's galleries.",
                TeamRole.Editor => "you would see, add, remove and comment on the images in the team's galleries.",
                _ => "you would add, remove and comment on images in the team's galleries, and manage the team and its members.",
            },
            ["nextStep"] = invitation.HasAccount
                ? $"Sign in as {invitation.Email} to accept or decline it."
                : $"Create your account with this address ({invitation.Email}); the invitation then waits for you on your Teams page.",
            ["action"] = invitation.HasAccount ? "Open the invitation" : "Create your account",
            ["link"] = link.AbsoluteUri,
        };
    }

    private enum Rationed
    {
        No,
        Recently,
        TooMany,
        ServerBusy,
    }

    /// <summary>Decides whether this owner may email this address now, and counts it when so.</summary>
    private Rationed Ration(string owner, string normalizedAddress)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            Forget(now);
            if (_lastTo.TryGetValue((owner, normalizedAddress), out var last) && now - last < ResendAfter)
            {
                return Rationed.Recently;
            }
            if (!_sentBy.TryGetValue(owner, out var sent))
            {
                sent = new Queue<DateTimeOffset>();
                _sentBy[owner] = sent;
            }
            if (sent.Count >= MaxPerOwnerPerHour)
            {
                return Rationed.TooMany;
            }
            if (_sentByServer.Count >= MaxPerServerPerHour)
            {
                return Rationed.ServerBusy;
            }
            sent.Enqueue(now);
            _sentByServer.Enqueue(now);
            _lastTo[(owner, normalizedAddress)] = now;
            return Rationed.No;
        }
    }

    /// <summary>Lets go of what no longer rations anything, so memory stays bounded by the last hour's emails.</summary>
    private void Forget(DateTimeOffset now)
    {
        foreach (var key in _lastTo.Where(e => now - e.Value >= ResendAfter).Select(e => e.Key).ToList())
        {
            _lastTo.Remove(key);
        }
        while (_sentByServer.TryPeek(out var first) && now - first >= Hour)
        {
            _sentByServer.Dequeue();
        }
        foreach (var (owner, sent) in _sentBy.ToList())
        {
            while (sent.TryPeek(out var first) && now - first >= Hour)
            {
                sent.Dequeue();
            }
            if (sent.Count == 0)
            {
                _sentBy.Remove(owner);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A team invitation's email could not be prepared; the invitation is saved")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Email;
using T2IStudio.Web.Endpoints;

namespace T2IStudio.Web.Tests.Email;

/// <summary>
/// Any owner can make the server write to any address, so invitation emails are rationed: one per owner and address
/// per ten minutes (re-inviting, or revoking and inviting again, sends nothing new), and twenty per owner an hour.
/// </summary>
public sealed class InvitationMailRationTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly StudioMail _mail = new(
        new Fixed<EmailOptions>(new EmailOptions { Smtp = new SmtpOptions { Host = "127.0.0.1", From = "studio@t2i.test" } }),
        new Fixed<NetworkOptions>(new NetworkOptions { PublicBaseUrl = "https://studio.example.com" }),
        NullLogger<StudioMail>.Instance);

    private static InvitationToSend Invitation(string email, string owner = "owner-1", bool ownerConfirmed = true) =>
        new(Guid.NewGuid(), email, TeamRole.Viewer, "Team", owner, "Olga", HasAccount: false, InviterConfirmed: ownerConfirmed);

    private int Queued()
    {
        var count = 0;
        while (_mail.Queue.TryRead(out _))
        {
            count++;
        }
        return count;
    }

    [Fact]
    public void The_same_owner_and_address_get_one_email_per_ten_minutes()
    {
        var invitations = new TeamInvitationMail(_mail, _time, NullLogger<TeamInvitationMail>.Instance);

        Assert.Equal("An email is on its way.", invitations.Send(Invitation("ana@example.com")));
        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal("An email went to that address a few minutes ago, so no new one is sent.", invitations.Send(Invitation("ANA@example.com")));
        Assert.Equal("An email is on its way.", invitations.Send(Invitation("ana@example.com", owner: "owner-2")));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("An email is on its way.", invitations.Send(Invitation("ana@example.com")));
        Assert.Equal(3, Queued());
    }

    [Fact]
    public void An_owner_sends_at_most_twenty_invitation_emails_an_hour()
    {
        var invitations = new TeamInvitationMail(_mail, _time, NullLogger<TeamInvitationMail>.Instance);
        for (var i = 0; i < TeamInvitationMail.MaxPerOwnerPerHour; i++)
        {
            Assert.Equal("An email is on its way.", invitations.Send(Invitation($"person{i}@example.com")));
            _time.Advance(TimeSpan.FromSeconds(30));
        }

        var refused = invitations.Send(Invitation("one-more@example.com"));

        Assert.Equal("You have sent 20 invitation emails this hour, so this one goes without an email: it waits on their Teams page.", refused);
        Assert.Equal("An email is on its way.", invitations.Send(Invitation("one-more@example.com", owner: "owner-2")));
        // An hour after the first, its place is free again.
        _time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(30 * TeamInvitationMail.MaxPerOwnerPerHour));
        Assert.Equal("An email is on its way.", invitations.Send(Invitation("one-more@example.com")));
        Assert.Equal(TeamInvitationMail.MaxPerOwnerPerHour + 2, Queued());
    }

    [Fact]
    public void The_whole_server_sends_at_most_two_hundred_invitation_emails_an_hour()
    {
        var invitations = new TeamInvitationMail(_mail, _time, NullLogger<TeamInvitationMail>.Instance);
        // Many owners, each well under their own ration, cannot add up to more than the server's.
        for (var i = 0; i < TeamInvitationMail.MaxPerServerPerHour; i++)
        {
            Assert.Equal("An email is on its way.", invitations.Send(Invitation($"person{i}@example.com", owner: $"owner-{i / 10}")));
        }

        var refused = invitations.Send(Invitation("one-more@example.com", owner: "a-new-owner"));

        Assert.Equal("This server has sent as many invitation emails as it may this hour, so this one goes without an email: it waits on their Teams page.", refused);
        Assert.Equal(TeamInvitationMail.MaxPerServerPerHour, Queued());
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal("An email is on its way.", invitations.Send(Invitation("one-more@example.com", owner: "a-new-owner")));
    }

    [Fact]
    public void An_owner_whose_own_address_is_unconfirmed_makes_the_server_write_to_nobody()
    {
        var invitations = new TeamInvitationMail(_mail, _time, NullLogger<TeamInvitationMail>.Instance);

        var told = invitations.Send(Invitation("ana@example.com", ownerConfirmed: false));

        Assert.Equal("No email was sent, because your own email address is not confirmed yet: confirm it from your account page. They still see the invitation on their Teams page.", told);
        Assert.Equal(0, Queued());
    }

    [Fact]
    public void What_the_owner_wrote_stays_out_of_the_subject()
    {
        var invitations = new TeamInvitationMail(_mail, _time, NullLogger<TeamInvitationMail>.Instance);

        invitations.Send(new InvitationToSend(Guid.NewGuid(), "ana@example.com", TeamRole.Editor, "CHEAP PILLS click here", "owner-1", "Free money", HasAccount: true, InviterConfirmed: true));

        Assert.True(_mail.Queue.TryRead(out var message));
        Assert.Equal("You are invited to join a team on T2I Studio", message.Subject);
        Assert.Contains("Free money invited you to the team “CHEAP PILLS click here”", message.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_email_nothing_is_sent_or_said()
    {
        var off = new StudioMail(new Fixed<EmailOptions>(new EmailOptions()), new Fixed<NetworkOptions>(new NetworkOptions()), NullLogger<StudioMail>.Instance);

        Assert.Null(new TeamInvitationMail(off, _time, NullLogger<TeamInvitationMail>.Instance).Send(Invitation("ana@example.com")));
        Assert.False(off.Queue.TryRead(out _));
    }

    [Fact]
    public void The_link_opens_the_invitation_for_an_account_and_registration_for_a_new_address()
    {
        var invitations = new TeamInvitationMail(_mail, _time, NullLogger<TeamInvitationMail>.Instance);
        var id = Guid.NewGuid();

        invitations.Send(new InvitationToSend(id, "ana@example.com", TeamRole.Owner, "Team", "owner-1", "Olga", HasAccount: true, InviterConfirmed: true));
        invitations.Send(new InvitationToSend(id, "ben@example.com", TeamRole.Owner, "Team", "owner-1", "Olga", HasAccount: false, InviterConfirmed: true));

        Assert.True(_mail.Queue.TryRead(out var toAccount));
        Assert.Contains($"Open the invitation: https://studio.example.com/teams?invitation={id}\n", toAccount.Text, StringComparison.Ordinal);
        Assert.Contains("as an owner", toAccount.Text, StringComparison.Ordinal);
        Assert.True(_mail.Queue.TryRead(out var toNewAddress));
        Assert.Contains($"Create your account: https://studio.example.com/Account/Register?ReturnUrl=%2Fteams%3Finvitation%3D{id}\n", toNewAddress.Text, StringComparison.Ordinal);
    }

    private sealed class Fixed<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}

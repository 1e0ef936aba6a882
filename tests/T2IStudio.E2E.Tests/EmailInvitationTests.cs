using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using T2IStudio.Data.Entities;
using T2IStudio.Testing;

namespace T2IStudio.E2E.Tests;

/// <summary>The app sending mail to a real SMTP server on loopback (aiosmtpd), its links pointing at its own port.</summary>
public sealed class InviteOnlyMailingStudioServer : StudioServer
{
    /// <summary>The SMTP server the app sends to.</summary>
    public SmtpSink Sink { get; private set; } = default!;

    protected override async Task BeforeStartAsync(string baseUrl) => Sink = await SmtpSink.StartAsync();

    protected override IEnumerable<KeyValuePair<string, string?>> Settings(string baseUrl) =>
    [
        .. Sink.Settings,
        new("Network:PublicBaseUrl", baseUrl),
        // Only invited addresses register: the invitation's email is what lets the newcomer in.
        new("Accounts:Registration", "InviteOnly"),
    ];

    protected override async Task AfterStopAsync() => await Sink.DisposeAsync();
}

/// <summary>
/// An owner invites a new address in Chromium; the newcomer opens the email's link in a browser of their own,
/// registers, lands on the invitation highlighted, accepts and is in the team. The admin's email panel sends a
/// test, and a person switches on the review and comment emails.
/// </summary>
public sealed class EmailInvitationTests(InviteOnlyMailingStudioServer server) : IClassFixture<InviteOnlyMailingStudioServer>
{
    /// <summary>
    /// Olga, the first account and so the administrator, signed in: registered by whichever test of the class runs
    /// first (later, invite-only registration would refuse her).
    /// </summary>
    private async Task<IPage> OlgaAsync()
    {
        var page = await server.NewPageAsync();
        using var scope = server.Services.CreateScope();
        if (scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().Users.Any())
        {
            await StudioPages.SignInAsync(page, "olga@example.test");
        }
        else
        {
            await StudioPages.RegisterAsync(page, "olga@example.test");
            // Only an owner whose own address is confirmed makes the server email invitations.
            await ConfirmAsync(page, "olga@example.test");
        }
        return page;
    }

    /// <summary>Follows the confirmation email's link to <paramref name="email"/> in <paramref name="page"/>.</summary>
    private async Task ConfirmAsync(IPage page, string email)
    {
        var confirmation = await server.Sink.WaitForAsync(email, m => m.TextBody?.Contains("/Account/ConfirmEmail", StringComparison.Ordinal) == true);
        await page.GotoAsync(SmtpSink.LinkIn(confirmation, server.BaseUrl.TrimEnd('/') + "/Account/ConfirmEmail").AbsoluteUri);
        await Assertions.Expect(page.GetByText("Your email address is confirmed.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_invited_address_follows_the_emailed_link_registers_and_accepts_the_highlighted_invitation()
    {
        var owner = await OlgaAsync();
        await owner.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(owner);
        await owner.GetByRole(AriaRole.Button, new() { Name = "New team" }).ClickAsync();
        await owner.GetByLabel("Team name").FillAsync("Poster crew");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await Assertions.Expect(owner.GetByRole(AriaRole.Heading, new() { Name = "Poster crew", Level = 1 })).ToBeVisibleAsync();
        await owner.GetByLabel("Member email").FillAsync("newcomer@example.test");
        await owner.GetByLabel("Role", new() { Exact = true }).ClickAsync();
        await owner.GetByRole(AriaRole.Option, new() { Name = "Editor", Exact = true }).ClickAsync();
        // The list closes once the choice is taken; only then is the form's role the one picked.
        await Assertions.Expect(owner.GetByRole(AriaRole.Option)).ToHaveCountAsync(0);
        await Assertions.Expect(owner.Locator(".studio-role-select").First).ToContainTextAsync("Editor");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        await Assertions.Expect(owner.GetByText("Invitation sent to newcomer@example.test. They join when they accept it. An email is on its way.")).ToBeVisibleAsync();

        var message = await server.Sink.WaitForAsync("newcomer@example.test");
        Assert.Equal("You are invited to join a team on T2I Studio", message.Subject);
        var link = SmtpSink.LinkIn(message, server.BaseUrl);

        // The newcomer, in a browser of their own, follows the link: registration, then straight to the invitation.
        var newcomer = await server.NewPageAsync();
        await newcomer.GotoAsync(link.AbsoluteUri);
        await Assertions.Expect(newcomer.GetByRole(AriaRole.Heading, new() { Name = "Create your account" })).ToBeVisibleAsync();
        await newcomer.GetByLabel("Email", new() { Exact = true }).FillAsync("newcomer@example.test");
        await newcomer.GetByLabel("Password", new() { Exact = true }).FillAsync(StudioPages.Password);
        await newcomer.GetByRole(AriaRole.Button, new() { Name = "Register", Exact = true }).ClickAsync();
        await StudioPages.WaitForInteractiveAsync(newcomer);
        await Assertions.Expect(newcomer).ToHaveURLAsync(new Regex(@"/teams\?invitation=[0-9a-f-]{36}$"));
        var invitationUrl = newcomer.Url;
        // Anyone can register any address: the invitation waits until the newcomer proves the address is theirs.
        await Assertions.Expect(newcomer.GetByText("Confirm your email address to accept invitations")).ToBeVisibleAsync();
        await ConfirmAsync(newcomer, "newcomer@example.test");
        await newcomer.GotoAsync(invitationUrl);
        await StudioPages.WaitForInteractiveAsync(newcomer);
        var opened = newcomer.Locator("[data-opened='true']");
        await Assertions.Expect(opened).ToContainTextAsync("The invitation you opened");
        await Assertions.Expect(opened).ToContainTextAsync("Poster crew");
        await Assertions.Expect(opened).ToContainTextAsync("olga invited you as an editor.");
        await StudioPages.ScreenshotAsync(newcomer, "email-invitation-opened");

        await opened.GetByRole(AriaRole.Button, new() { Name = "Accept the invitation to Poster crew" }).ClickAsync();
        await Assertions.Expect(newcomer.GetByText("You joined Poster crew as an editor.")).ToBeVisibleAsync();
        await Assertions.Expect(newcomer.GetByRole(AriaRole.Link, new() { Name = "Poster crew" })).ToBeVisibleAsync();
        await Assertions.Expect(owner.Locator("tr[data-member='newcomer@example.test']")).ToContainTextAsync("Editor");
    }

    [Fact]
    public async Task The_admin_sends_a_test_email_and_a_person_switches_on_the_review_and_comment_emails()
    {
        var admin = await OlgaAsync();
        await admin.GotoAsync("/admin");
        await StudioPages.WaitForInteractiveAsync(admin);
        var panel = admin.GetByTestId("email-status");
        await Assertions.Expect(panel.GetByRole(AriaRole.Heading, new() { Name = "Email" })).ToBeVisibleAsync();
        await Assertions.Expect(panel).ToContainTextAsync("T2I Studio <studio@t2i.test>");
        await Assertions.Expect(panel).ToContainTextAsync(server.BaseUrl + "/");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Send test email" }).ClickAsync();
        await Assertions.Expect(admin.GetByText("Test email sent to olga@example.test.")).ToBeVisibleAsync();
        Assert.Equal("T2I Studio can send email", (await server.Sink.WaitForAsync("olga@example.test", m => m.Subject == "T2I Studio can send email")).Subject);
        await panel.ScrollIntoViewIfNeededAsync();
        await StudioPages.ScreenshotAsync(admin, "admin-email");

        await admin.GotoAsync("/Account/Manage");
        var setting = admin.GetByLabel("Email me when someone reviews or comments on my images");
        await Assertions.Expect(setting).Not.ToBeCheckedAsync();
        await setting.CheckAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved: you get an email when someone reviews or comments on your images.");
        await Assertions.Expect(admin.GetByLabel("Email me when someone reviews or comments on my images")).ToBeCheckedAsync();
        await StudioPages.ScreenshotAsync(admin, "account-email-settings");
    }
}

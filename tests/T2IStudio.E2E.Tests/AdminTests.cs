using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

public sealed class AdminTests(StudioServer server) : IClassFixture<StudioServer>
{
    [Fact]
    public async Task A_disabled_users_open_circuit_is_refused_at_its_next_action_and_signed_out()
    {
        var admin = await server.NewPageAsync();
        await StudioPages.RegisterAsync(admin, "root@example.test");
        var member = await server.NewPageAsync();
        await StudioPages.RegisterAsync(member, "mallory@example.test");

        // The member does not see Admin; the admin does.
        await Assertions.Expect(member.GetByRole(AriaRole.Link, new() { Name = "Admin", Exact = true })).ToHaveCountAsync(0);
        await admin.GetByRole(AriaRole.Link, new() { Name = "Admin", Exact = true }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Cell, new() { Name = "mallory@example.test", Exact = true })).ToBeVisibleAsync();
        // Tests run on the CPU: one session per graph and the host loop, as the engine status says.
        await Assertions.Expect(admin.GetByTestId("engine-tuning")).ToContainTextAsync("Latents: host loop");
        await StudioPages.ScreenshotAsync(admin, "admin-users");

        // Create invite link: shown once, on the register page's address, and it opens the register form.
        await Assertions.Expect(admin.GetByText("Registration is open to anyone who can reach this address")).ToBeVisibleAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Create invite link" }).ClickAsync();
        var link = admin.GetByLabel("Invite link");
        await Assertions.Expect(link).ToHaveValueAsync(new Regex("/Account/Register\\?invite=[A-Za-z0-9_-]{43}$"));
        var invited = await server.NewPageAsync();
        await invited.GotoAsync(await link.InputValueAsync());
        await Assertions.Expect(invited.GetByRole(AriaRole.Heading, new() { Name = "Create your account" })).ToBeVisibleAsync();

        await admin.GetByRole(AriaRole.Button, new() { Name = "Disable mallory@example.test" }).ClickAsync();
        await Assertions.Expect(admin.GetByText("mallory is disabled and signed out.")).ToBeVisibleAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Button, new() { Name = "Enable mallory@example.test" })).ToBeVisibleAsync();

        // The member's circuit is still open; their next click is refused and they land on sign-in.
        await member.GetByRole(AriaRole.Link, new() { Name = "Teams", Exact = true }).ClickAsync();
        await Assertions.Expect(member).ToHaveURLAsync(new Regex("/Account/Login\\?status=disabled$"));
        await Assertions.Expect(member.GetByText("Your account has been disabled by an administrator")).ToBeVisibleAsync();
        await member.GotoAsync("/");
        await Assertions.Expect(member).ToHaveURLAsync(new Regex("/Account/Login\\?ReturnUrl=%2F$"));
    }
}

using System.Security.Claims;
using Bunit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using T2IStudio.Testing;
using T2IStudio.Web.Components.Admin;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Email;

/// <summary>Admin → Email: says when email is off and how to turn it on; when on, shows the settings in effect and sends a test to the admin.</summary>
public sealed class EmailStatusTests : StudioComponentTestBase
{
    private async Task SignInAdminAsync(params (string Key, string Value)[] settings)
    {
        AddGenerationServices();
        var admin = await AddUserAsync("mail-admin@example.test");
        var auth = AddAuthorization();
        auth.SetAuthorized(admin.Email!);
        auth.SetRoles(T2IStudio.Data.AppDbContext.AdminRole);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, admin.Id));
        // The app's own configuration, read by its options when the component first asks for them.
        var configuration = Services.GetRequiredService<IConfiguration>();
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }
    }

    private List<string> Snackbars() => Services.GetRequiredService<ISnackbar>().ShownSnackbars.Select(s => s.Message ?? "").ToList();

    [Fact]
    public async Task Without_a_server_it_says_email_is_off_and_which_settings_turn_it_on()
    {
        await SignInAdminAsync();

        var panel = Render<EmailStatus>();

        Assert.StartsWith("Email is off: set Email:Smtp:Host and Email:Smtp:From", panel.Find("[data-testid=email-status] .mud-alert").TextContent.Trim(), StringComparison.Ordinal);
        Assert.Contains("Email:Smtp:Host", panel.FindAll("code").Select(c => c.TextContent));
        Assert.Empty(panel.FindAll("button"));
    }

    [Fact]
    public async Task With_a_server_it_shows_the_settings_without_the_password_and_sends_a_test_email_to_the_admin()
    {
        await using var sink = await SmtpSink.StartAsync();
        await SignInAdminAsync([.. sink.Settings.Select(s => (s.Key, s.Value!)), ("Network:PublicBaseUrl", "https://studio.example.com")]);
        var panel = Render<EmailStatus>();
        var facts = panel.Find("dl").TextContent;
        Assert.Contains("127.0.0.1", facts, StringComparison.Ordinal);
        Assert.Contains(sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), facts, StringComparison.Ordinal);
        Assert.Contains("None (plain text)", facts, StringComparison.Ordinal);
        Assert.Contains("Nobody (no authentication)", facts, StringComparison.Ordinal);
        Assert.Contains("T2I Studio <studio@t2i.test>", facts, StringComparison.Ordinal);
        Assert.Contains("https://studio.example.com/", facts, StringComparison.Ordinal);

        await panel.InvokeAsync(() => panel.FindAll("button").Single(b => b.TextContent.Trim() == "Send test email").Click());

        panel.WaitForAssertion(() => Assert.Contains("Test email sent to mail-admin@example.test.", Snackbars()));
        var received = await sink.WaitForAsync("mail-admin@example.test");
        Assert.Equal("T2I Studio can send email", received.Subject);
        Assert.Contains("Open T2I Studio: https://studio.example.com/", received.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_cannot_be_reached_is_reported_in_its_own_words_and_the_password_is_never_shown()
    {
        await SignInAdminAsync(("Email:Smtp:Host", "127.0.0.1"), ("Email:Smtp:Port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("Email:Smtp:UseTls", "false"), ("Email:Smtp:From", "studio@t2i.test"), ("Email:Smtp:User", "mailer"), ("Email:Smtp:Password", "s3cret-pass"),
            ("Network:PublicBaseUrl", "https://studio.example.com"));
        var panel = Render<EmailStatus>();
        Assert.Contains("mailer", panel.Find("dl").TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pass", panel.Markup, StringComparison.Ordinal);

        await panel.InvokeAsync(() => panel.FindAll("button").Single(b => b.TextContent.Trim() == "Send test email").Click());

        panel.WaitForAssertion(() => Assert.Contains(Snackbars(), s => s.StartsWith("The test email could not be sent: ", StringComparison.Ordinal)));
    }

    /// <summary>A loopback port nobody listens on.</summary>
    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }
}

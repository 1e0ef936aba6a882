using T2IStudio.Testing;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Email;

/// <summary>
/// The app sending its mail to a real SMTP server on loopback (aiosmtpd), its links made for the test client's
/// address (http://localhost), shared by the tests of a class; each test uses its own addresses.
/// </summary>
public sealed class MailApp : IAsyncLifetime
{
    /// <summary>The address the test client reaches the app at, and so the base of every link in its emails.</summary>
    public const string PublicBaseUrl = "http://localhost";

    /// <summary>The SMTP server the app sends to.</summary>
    public SmtpSink Sink { get; private set; } = default!;

    /// <summary>The app.</summary>
    public StudioAppFactory App { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        Sink = await SmtpSink.StartAsync();
        var settings = new Dictionary<string, string?>(Sink.Settings)
        {
            ["Network:PublicBaseUrl"] = PublicBaseUrl,
            // Registration needs an invitation, so following an invitation's link is what lets a new address in.
            ["Accounts:Registration"] = "InviteOnly",
        };
        App = new StudioAppFactory(settings: settings);
        _ = App.Services; // started, so a bad setting fails here rather than in a test
    }

    /// <summary>
    /// Waits until everything queued before now has been handed to the server: queues a message to
    /// <paramref name="marker"/> and waits for it (one sender, in order), so a test can then assert what did NOT arrive.
    /// </summary>
    public async Task DrainAsync(string marker)
    {
        var mail = (T2IStudio.Web.Email.StudioMail)App.Services.GetService(typeof(T2IStudio.Web.Email.StudioMail))!;
        Assert.True(mail.Send("Test", marker, null, new Dictionary<string, string>
        {
            ["name"] = "marker",
            ["server"] = "localhost",
            ["link"] = PublicBaseUrl + "/",
        }));
        await Sink.WaitForAsync(marker);
    }

    /// <summary>The messages received so far for <paramref name="address"/>.</summary>
    public IReadOnlyList<MimeKit.MimeMessage> To(string address) =>
        Sink.Messages().Where(m => m.To.Mailboxes.Any(a => string.Equals(a.Address, address, StringComparison.OrdinalIgnoreCase))).ToList();

    public async Task DisposeAsync()
    {
        App.Dispose();
        await Sink.DisposeAsync();
    }
}

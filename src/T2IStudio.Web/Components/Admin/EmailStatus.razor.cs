using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using MudBlazor;
using T2IStudio.Data;
using T2IStudio.Web.Access;
using T2IStudio.Web.Email;
using T2IStudio.Web.Endpoints;

namespace T2IStudio.Web.Components.Admin;

/// <summary>
/// Admin → Email: the SMTP settings in effect (never the password) and a test message to the admin's own address.
/// The test is sent while the admin waits, not queued, so a wrong host, port, TLS choice or password is reported
/// here in the server's own words instead of in the log.
/// </summary>
public sealed partial class EmailStatus
{
    private EmailOptions _smtp = new();
    private Uri? _publicBase;
    private bool _sending;

    [Inject] private IOptionsMonitor<EmailOptions> EmailOptions { get; set; } = default!;

    [Inject] private IOptionsMonitor<NetworkOptions> NetworkOptions { get; set; } = default!;

    [Inject] private StudioMail Mail { get; set; } = default!;

    [Inject] private IDbContextFactory<AppDbContext> DbFactory { get; set; } = default!;

    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [Inject] private ILogger<EmailStatus> Logger { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private string Encryption => !_smtp.Smtp.UseTls ? "None (plain text)"
        : _smtp.Smtp.Port == 465 ? "TLS on connect"
        : "STARTTLS (required)";

    protected override void OnInitialized()
    {
        _smtp = EmailOptions.CurrentValue;
        _publicBase = NetworkOptions.CurrentValue.PublicBase;
    }

    private async Task SendTestAsync()
    {
        if (_sending)
        {
            return;
        }
        _sending = true;
        try
        {
            if (ResourceAccess.UserId((await AuthenticationState).User) is not { } userId)
            {
                return;
            }
            await using var db = await DbFactory.CreateDbContextAsync();
            var me = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.Email, u.DisplayName }).SingleOrDefaultAsync();
            if (string.IsNullOrWhiteSpace(me?.Email))
            {
                Snackbar.Add("Your account has no email address to send the test to.", Severity.Error);
                return;
            }
            var message = MailTemplate.Load("Test").Render(me.Email, me.DisplayName, new Dictionary<string, string>
            {
                ["name"] = me.DisplayName,
                ["server"] = _publicBase?.Authority ?? "this server",
                ["link"] = Mail.Link("/").AbsoluteUri,
            });
            await SmtpMailSender.SendAsync(EmailOptions.CurrentValue.Smtp, message, CancellationToken.None);
            Snackbar.Add($"Test email sent to {me.Email}.", Severity.Success);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or SmtpCommandException or SmtpProtocolException
                                       or AuthenticationException or ServiceNotConnectedException or SslHandshakeException or ParseException
                                       or InvalidOperationException or TimeoutException)
        {
            LogTestFailed(Logger, ex);
            Snackbar.Add($"The test email could not be sent: {ex.Message}", Severity.Error);
        }
        finally
        {
            _sending = false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An admin's test email could not be sent")]
    private static partial void LogTestFailed(ILogger logger, Exception exception);
}

using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace T2IStudio.Web.Email;

/// <summary>
/// Sends <see cref="StudioMail"/>'s queue through SMTP with MailKit, one connection per burst. A message that fails
/// is tried again (after 5 s, 30 s and 2 min) and then logged and given up, so one bad address or a restart of the
/// mail server does not stop the others.
/// </summary>
public sealed partial class SmtpMailSender(StudioMail mail, IOptionsMonitor<EmailOptions> options, ILogger<SmtpMailSender> logger, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)];

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await mail.Queue.WaitToReadAsync(stoppingToken))
            {
                while (mail.Queue.TryRead(out var message))
                {
                    await SendWithRetriesAsync(message, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: what is still queued is lost (it was never promised to survive a restart).
        }
    }

    private async Task SendWithRetriesAsync(OutgoingMail message, CancellationToken stoppingToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await SendAsync(options.CurrentValue.Smtp, message, stoppingToken);
                LogSent(logger, message.Subject);
                return;
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or SmtpCommandException or SmtpProtocolException
                                           or AuthenticationException or ServiceNotConnectedException or SslHandshakeException or ParseException)
            {
                if (attempt >= RetryDelays.Length)
                {
                    LogGaveUp(logger, ex, message.Subject, attempt + 1);
                    return;
                }
                LogRetrying(logger, ex.Message, message.Subject, RetryDelays[attempt].TotalSeconds);
                await Task.Delay(RetryDelays[attempt], time, stoppingToken);
            }
        }
    }

    /// <summary>Sends one message through <paramref name="smtp"/>.</summary>
    internal static async Task SendAsync(SmtpOptions smtp, OutgoingMail message, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(smtp.Host) || string.IsNullOrWhiteSpace(smtp.From))
        {
            throw new ServiceNotConnectedException("Email:Smtp:Host and From are no longer set.");
        }
        var mime = new MimeMessage { Subject = message.Subject };
        mime.From.Add(MailboxAddress.Parse(smtp.From));
        mime.To.Add(new MailboxAddress(message.ToName ?? "", message.ToAddress));
        mime.Body = new BodyBuilder { TextBody = message.Text, HtmlBody = message.Html }.ToMessageBody();

        using var client = new SmtpClient { Timeout = 30_000 };
        var security = !smtp.UseTls ? SecureSocketOptions.None
            : smtp.Port == 465 ? SecureSocketOptions.SslOnConnect
            : SecureSocketOptions.StartTls;
        await client.ConnectAsync(smtp.Host, smtp.Port, security, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.User))
        {
            await client.AuthenticateAsync(smtp.User, smtp.Password ?? "", cancellationToken);
        }
        await client.SendAsync(mime, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent the email \"{Subject}\"")]
    private static partial void LogSent(ILogger logger, string subject);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send the email \"{Subject}\" ({Reason}); trying again in {Seconds} s")]
    private static partial void LogRetrying(ILogger logger, string reason, string subject, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Gave up sending the email \"{Subject}\" after {Attempts} attempts")]
    private static partial void LogGaveUp(ILogger logger, Exception exception, string subject, int attempts);
}

using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace T2IStudio.Web.Email;

/// <summary>
/// Sends <see cref="StudioMail"/>'s queue through SMTP with MailKit, one connection per message. A message the server
/// refuses for good (a 5xx reply, an address that cannot be written) is logged and dropped; one that fails for a reason
/// that may pass (the server is down, slow or busy) is queued again after 5 s, 30 s and 2 min and then given up. The
/// wait happens beside the queue, never in it, so one failing message does not hold the others; and no failure of a
/// message stops the sender (an exception out of a hosted service would stop the whole app).
/// </summary>
public sealed partial class SmtpMailSender(StudioMail mail, IOptionsMonitor<EmailOptions> options, ILogger<SmtpMailSender> logger, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)];

    /// <summary>How long one SMTP step (connect, each command) may take; tests shorten it.</summary>
    internal TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await mail.Queue.WaitToReadAsync(stoppingToken))
            {
                while (mail.Queue.TryRead(out var message))
                {
                    await SendOnceAsync(message, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: what is still queued is lost (it was never promised to survive a restart).
        }
    }

    private async Task SendOnceAsync(OutgoingMail message, CancellationToken stoppingToken)
    {
        try
        {
            await SendAsync(options.CurrentValue.Smtp, message, stoppingToken, CommandTimeout);
            LogSent(logger, message.Subject);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (IsPermanent(ex))
        {
            LogRefused(logger, ex, message.Subject);
        }
        catch (Exception ex)
        {
            // Whatever else went wrong (a timeout, a dropped connection, a 4xx reply, something unforeseen) may pass.
            if (message.Attempt >= RetryDelays.Length)
            {
                LogGaveUp(logger, ex, message.Subject, message.Attempt + 1);
                return;
            }
            var delay = RetryDelays[message.Attempt];
            LogRetrying(logger, ex.Message, message.Subject, delay.TotalSeconds);
            _ = RetryLaterAsync(message with { Attempt = message.Attempt + 1 }, delay, stoppingToken);
        }
    }

    /// <summary>True for a failure that sending again cannot mend: the server's 5xx answer, or an address MimeKit cannot read.</summary>
    internal static bool IsPermanent(Exception exception) => exception switch
    {
        SmtpCommandException command => (int)command.StatusCode >= 500,
        ParseException or FormatException or ArgumentException => true,
        _ => false,
    };

    /// <summary>Puts <paramref name="message"/> back in the queue after <paramref name="delay"/> (nothing on shutdown).</summary>
    private async Task RetryLaterAsync(OutgoingMail message, TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, time, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        if (!mail.Requeue(message))
        {
            LogGaveUp(logger, null, message.Subject, message.Attempt);
        }
    }

    /// <summary>Sends one message through <paramref name="smtp"/>.</summary>
    internal static async Task SendAsync(SmtpOptions smtp, OutgoingMail message, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        if (string.IsNullOrWhiteSpace(smtp.Host) || string.IsNullOrWhiteSpace(smtp.From))
        {
            throw new ServiceNotConnectedException("Email:Smtp:Host and From are no longer set.");
        }
        var mime = new MimeMessage { Subject = message.Subject };
        mime.From.Add(MailboxAddress.Parse(smtp.From));
        mime.To.Add(new MailboxAddress(message.ToName ?? "", message.ToAddress));
        mime.Body = new BodyBuilder { TextBody = message.Text, HtmlBody = message.Html }.ToMessageBody();

        using var client = new SmtpClient { Timeout = (int)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds };
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
    private static partial void LogGaveUp(ILogger logger, Exception? exception, string subject, int attempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "The mail server refused the email \"{Subject}\" for good; it is not sent again")]
    private static partial void LogRefused(ILogger logger, Exception exception, string subject);
}

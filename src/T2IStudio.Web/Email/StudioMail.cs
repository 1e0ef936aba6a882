using System.Threading.Channels;
using Microsoft.Extensions.Options;
using T2IStudio.Web.Endpoints;

namespace T2IStudio.Web.Email;

/// <summary>
/// What the app emails: a template, a recipient and values, queued and sent in the background by
/// <see cref="SmtpMailSender"/>, so a page never waits on (or fails because of) the mail server. Without
/// <c>Email:Smtp:Host</c> nothing is queued and <see cref="IsEnabled"/> says so; the app works as without email.
/// Links in messages are made from <c>Network:PublicBaseUrl</c>, never from a request's Host header.
/// </summary>
public sealed partial class StudioMail(IOptionsMonitor<EmailOptions> email, IOptionsMonitor<NetworkOptions> network, ILogger<StudioMail> logger)
{
    /// <summary>Messages waiting beyond this many are dropped (and logged): a stuck server must not eat the memory.</summary>
    public const int MaxQueued = 1000;

    private readonly Channel<OutgoingMail> _queue = Channel.CreateBounded<OutgoingMail>(
        new BoundedChannelOptions(MaxQueued) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>True when an SMTP server is configured.</summary>
    public bool IsEnabled => email.CurrentValue.IsEnabled;

    /// <summary>The messages waiting to be sent (read by the sender).</summary>
    internal ChannelReader<OutgoingMail> Queue => _queue.Reader;

    /// <summary>
    /// An absolute link to <paramref name="pathAndQuery"/> (a local path such as <c>/teams?invitation=…</c>) under
    /// <c>Network:PublicBaseUrl</c>.
    /// </summary>
    public Uri Link(string pathAndQuery)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathAndQuery);
        if (pathAndQuery[0] != '/' || pathAndQuery.StartsWith("//", StringComparison.Ordinal))
        {
            throw new ArgumentException("A link in an email points to a page of this app (a path starting with one '/').", nameof(pathAndQuery));
        }
        var publicBase = network.CurrentValue.PublicBase
            ?? throw new InvalidOperationException("Network:PublicBaseUrl is not set, so emails cannot link back to the app.");
        return new Uri(publicBase, pathAndQuery.TrimStart('/'));
    }

    /// <summary>
    /// Renders <paramref name="template"/> for <paramref name="toAddress"/> and queues it. Returns false (and sends
    /// nothing) when email is off or the queue is full; never throws for the mail server's sake.
    /// </summary>
    public bool Send(string template, string toAddress, string? toName, IReadOnlyDictionary<string, string> values)
    {
        if (!IsEnabled)
        {
            return false;
        }
        var mail = MailTemplate.Load(template).Render(toAddress, toName, values);
        if (_queue.Writer.TryWrite(mail))
        {
            return true;
        }
        LogQueueFull(logger, template);
        return false;
    }

    /// <summary>Queues <paramref name="message"/> again after a failed attempt; false when the queue is full.</summary>
    internal bool Requeue(OutgoingMail message) => _queue.Writer.TryWrite(message);

    [LoggerMessage(Level = LogLevel.Error, Message = "The email queue is full ({Max} waiting): a '{Template}' message was dropped. Is the SMTP server reachable?")]
    private static partial void LogQueueFull(ILogger logger, string template, int max = MaxQueued);
}

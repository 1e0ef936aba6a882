using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Testing;
using T2IStudio.Web.Email;
using T2IStudio.Web.Endpoints;

namespace T2IStudio.Web.Tests.Email;

/// <summary>
/// The sender against a real SMTP server on loopback when a message fails: a recipient refused for good is not tried
/// again, a server that does not answer neither stops the sender (which would stop the app) nor holds the other
/// messages while the failed one waits for its next attempt.
/// </summary>
public sealed class MailSenderFailureTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly Mutable<EmailOptions> _options = new(new EmailOptions());
    private readonly CapturingLogger _log = new();
    private readonly StudioMail _mail;
    private readonly SmtpMailSender _sender;

    public MailSenderFailureTests()
    {
        _mail = new StudioMail(_options, new Mutable<NetworkOptions>(new NetworkOptions { PublicBaseUrl = "http://localhost" }), NullLogger<StudioMail>.Instance);
        _sender = new SmtpMailSender(_mail, _options, _log, _time) { CommandTimeout = TimeSpan.FromSeconds(1) };
    }

    private static EmailOptions To(int port) =>
        new() { Smtp = new SmtpOptions { Host = "127.0.0.1", Port = port, UseTls = false, From = "T2I Studio <studio@t2i.test>" } };

    private void Send(string address) => Assert.True(_mail.Send("Test", address, null, new Dictionary<string, string>
    {
        ["name"] = address,
        ["server"] = "localhost",
        ["link"] = "http://localhost/",
    }));

    [Fact]
    public async Task A_recipient_the_server_refuses_for_good_is_not_tried_again_and_the_next_message_arrives()
    {
        await using var sink = await SmtpSink.StartAsync("refused@example.com");
        _options.Value = To(sink.Port);
        await _sender.StartAsync(CancellationToken.None);
        try
        {
            Send("refused@example.com");
            Send("next@example.com");

            await sink.WaitForAsync("next@example.com"); // at once: no retry wait in front of it
            _time.Advance(TimeSpan.FromHours(1)); // past every retry delay
            Send("marker@example.com");
            await sink.WaitForAsync("marker@example.com"); // one sender, in order: anything re-queued came before

            Assert.Equal(["refused@example.com"], sink.Rejected());
            Assert.DoesNotContain(sink.Messages(), m => m.To.Mailboxes.Any(a => a.Address == "refused@example.com"));
            Assert.False(_sender.ExecuteTask!.IsCompleted);
        }
        finally
        {
            await _sender.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_server_that_does_not_answer_neither_stops_the_sender_nor_holds_the_next_message()
    {
        // Accepts connections and never says a word: MailKit's wait for the greeting times out.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new ConcurrentBag<TcpClient>();
        using var stopAccepting = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    held.Add(await silent.AcceptTcpClientAsync(stopAccepting.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await using var sink = await SmtpSink.StartAsync();
        _options.Value = To(((IPEndPoint)silent.LocalEndpoint).Port);
        await _sender.StartAsync(CancellationToken.None);
        try
        {
            Send("first@example.com");
            await PollAsync(() => _log.Messages.Any(m => m.Contains("trying again", StringComparison.Ordinal)));
            Assert.False(_sender.ExecuteTask!.IsCompleted, "The sender stopped after a timeout (and with it the app).");

            // The server is back; the failed message waits for its retry, the next one goes at once.
            _options.Value = To(sink.Port);
            Send("second@example.com");
            await sink.WaitForAsync("second@example.com");
            Assert.DoesNotContain(sink.Messages(), m => m.To.Mailboxes.Any(a => a.Address == "first@example.com"));

            _time.Advance(TimeSpan.FromSeconds(5));
            await sink.WaitForAsync("first@example.com");
            Assert.False(_sender.ExecuteTask.IsCompleted);
        }
        finally
        {
            await _sender.StopAsync(CancellationToken.None);
            await stopAccepting.CancelAsync();
            await accepting;
            foreach (var client in held)
            {
                client.Dispose();
            }
        }
    }

    private static async Task PollAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not come true in time.");
            await Task.Delay(50);
        }
    }

    private sealed class Mutable<T>(T value) : IOptionsMonitor<T>
    {
        public T Value { get; set; } = value;

        public T CurrentValue => Value;

        public T Get(string? name) => Value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }

    private sealed class CapturingLogger : ILogger<SmtpMailSender>
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue(formatter(state, exception));
    }
}

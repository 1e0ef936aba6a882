using System.Diagnostics;
using MimeKit;

namespace T2IStudio.Testing;

/// <summary>
/// A real SMTP server on a loopback port (Debian's aiosmtpd, <c>tools/smtp-sink/smtp_sink.py</c>) that writes every
/// message it receives into a folder; tests read the messages with MimeKit. Settings for the app: <see cref="Settings"/>.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly Process _process;

    private SmtpSink(Process process, int port, string folder)
    {
        _process = process;
        Port = port;
        Folder = folder;
    }

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Where received messages land, one <c>.eml</c> each, numbered in arrival order.</summary>
    public string Folder { get; }

    /// <summary>The app's settings that send mail here, plain SMTP on loopback.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("Email:Smtp:Host", "127.0.0.1"),
        new("Email:Smtp:Port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Email:Smtp:UseTls", "false"),
        new("Email:Smtp:From", "T2I Studio <studio@t2i.test>"),
    ];

    /// <summary>
    /// Starts a server on a free loopback port (the server binds port 0 itself and says which port it got, so no other
    /// process can take the port in between) and waits until it accepts connections. Each address in
    /// <paramref name="reject"/> is refused at RCPT TO with 550 (a permanent failure), counted in <see cref="Rejected"/>.
    /// </summary>
    public static async Task<SmtpSink> StartAsync(params string[] reject)
    {
        var script = Path.Combine(RepositoryRoot.Path, "tools", "smtp-sink", "smtp_sink.py");
        var folder = Directory.CreateTempSubdirectory("t2i-smtp-").FullName;
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--folder");
        start.ArgumentList.Add(folder);
        foreach (var address in reject)
        {
            start.ArgumentList.Add("--reject");
            start.ArgumentList.Add(address);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start /usr/bin/python3 for the SMTP sink.");
        var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (ready is null || !ready.StartsWith("ready ", StringComparison.Ordinal)
            || !int.TryParse(ready["ready ".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port))
        {
            var error = await process.StandardError.ReadToEndAsync();
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException(
                $"The SMTP sink did not start ({error.Trim()}). It needs Debian's python3-aiosmtpd: sudo apt-get install -y python3-aiosmtpd");
        }
        return new SmtpSink(process, port, folder);
    }

    /// <summary>The recipients refused so far (one entry per refused RCPT TO, in order).</summary>
    public IReadOnlyList<string> Rejected()
    {
        var log = System.IO.Path.Combine(Folder, "rejected.log");
        return File.Exists(log) ? File.ReadAllLines(log).Where(line => line.Length > 0).ToList() : [];
    }

    /// <summary>Every message received so far, in arrival order.</summary>
    public IReadOnlyList<MimeMessage> Messages() =>
        Directory.GetFiles(Folder, "*.eml").Order(StringComparer.Ordinal).Select(path => MimeMessage.Load(path)).ToList();

    /// <summary>
    /// Waits (polling the folder) for the first message to <paramref name="to"/> that <paramref name="match"/> accepts,
    /// for at most <paramref name="timeout"/> (30 s by default).
    /// </summary>
    public async Task<MimeMessage> WaitForAsync(string to, Func<MimeMessage, bool>? match = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var found = Messages().FirstOrDefault(m =>
                m.To.Mailboxes.Any(a => string.Equals(a.Address, to, StringComparison.OrdinalIgnoreCase)) && (match?.Invoke(m) ?? true));
            if (found is not null)
            {
                return found;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No email to {to} arrived (received: {string.Join("; ", Messages().Select(m => $"{m.To} \"{m.Subject}\""))}).");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The first http(s) link in <paramref name="message"/>'s plain-text body that starts with <paramref name="prefix"/>.</summary>
    public static Uri LinkIn(MimeMessage message, string prefix)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = message.TextBody ?? "";
        foreach (var word in text.Split([' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (word.StartsWith(prefix, StringComparison.Ordinal) && Uri.TryCreate(word, UriKind.Absolute, out var link))
            {
                return link;
            }
        }
        throw new InvalidOperationException($"No link starting with {prefix} in \"{message.Subject}\":\n{text}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // The OS temp cleaner takes it.
        }
        await Task.CompletedTask;
    }
}

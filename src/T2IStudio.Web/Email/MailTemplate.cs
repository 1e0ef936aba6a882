using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace T2IStudio.Web.Email;

/// <summary>A message ready to send: one recipient, a subject, and the same content as plain text and as HTML.</summary>
/// <param name="ToAddress">The recipient's address.</param>
/// <param name="ToName">The recipient's name, when known.</param>
/// <param name="Subject">The subject line.</param>
/// <param name="Text">The plain-text body.</param>
/// <param name="Html">The HTML body.</param>
public sealed record OutgoingMail(string ToAddress, string? ToName, string Subject, string Text, string Html)
{
    /// <summary>How many times sending it failed for a reason that may pass (the sender's retry count).</summary>
    internal int Attempt { get; init; }
}

/// <summary>
/// One email template, from which both the plain-text and the HTML body are made, so the two never disagree.
/// A template is an embedded <c>Email/Templates/{name}.txt</c>: a first line <c>Subject: …</c>, a blank line, then
/// paragraphs separated by blank lines. <c>{{key}}</c> is replaced by a value (HTML-escaped in the HTML body; line
/// breaks removed from the subject); a paragraph that is exactly <c>[[Label|{{key}}]]</c> is a link: a button in
/// HTML, "Label: address" in text. A key without a value is an error, not a blank in someone's inbox.
/// </summary>
public sealed partial class MailTemplate
{
    private readonly string _subject;
    private readonly IReadOnlyList<string> _paragraphs;

    private MailTemplate(string name, string subject, IReadOnlyList<string> paragraphs)
    {
        Name = name;
        _subject = subject;
        _paragraphs = paragraphs;
    }

    /// <summary>The template's name (its file name without <c>.txt</c>).</summary>
    public string Name { get; }

    /// <summary>The template <paramref name="name"/> from this assembly's embedded <c>Email/Templates</c>.</summary>
    public static MailTemplate Load(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var assembly = typeof(MailTemplate).Assembly;
        var resource = $"T2IStudio.Web.Email.Templates.{name}.txt";
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"There is no email template '{name}' (embedded resource {resource}).");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Parse(name, reader.ReadToEnd());
    }

    /// <summary>Reads a template's text (see the class summary for the format).</summary>
    public static MailTemplate Parse(string name, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var text = source.Replace("\r\n", "\n", StringComparison.Ordinal);
        var firstBreak = text.IndexOf('\n', StringComparison.Ordinal);
        var first = firstBreak < 0 ? text : text[..firstBreak];
        if (!first.StartsWith("Subject: ", StringComparison.Ordinal))
        {
            throw new FormatException($"Email template '{name}' must start with a line 'Subject: …'.");
        }
        var body = firstBreak < 0 ? "" : text[(firstBreak + 1)..];
        var paragraphs = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new MailTemplate(name, first["Subject: ".Length..].Trim(), paragraphs);
    }

    /// <summary>The message for <paramref name="toAddress"/> with <paramref name="values"/> filled in.</summary>
    public OutgoingMail Render(string toAddress, string? toName, IReadOnlyDictionary<string, string> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(toAddress);
        ArgumentNullException.ThrowIfNull(values);
        var subject = Fill(_subject, values, static v => v.ReplaceLineEndings(" "));
        var text = new StringBuilder();
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>")
            .Append(WebUtility.HtmlEncode(subject))
            .Append("</title></head><body style=\"font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:15px;line-height:1.5;color:#1f1f24;max-width:560px;margin:0 auto;padding:24px\">");
        foreach (var paragraph in _paragraphs)
        {
            var link = LinkPattern().Match(paragraph);
            if (link.Success)
            {
                var label = Fill(link.Groups["label"].Value, values, static v => v);
                var url = Fill(link.Groups["url"].Value, values, static v => v);
                if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || address.Scheme is not ("https" or "http"))
                {
                    throw new InvalidOperationException($"Email template '{Name}' links to '{url}', which is not an http(s) address.");
                }
                text.Append(label).Append(": ").Append(address.AbsoluteUri).Append("\n\n");
                html.Append("<p><a href=\"").Append(WebUtility.HtmlEncode(address.AbsoluteUri))
                    .Append("\" style=\"display:inline-block;background:#5b4bdb;color:#ffffff;text-decoration:none;padding:10px 18px;border-radius:6px\">")
                    .Append(WebUtility.HtmlEncode(label)).Append("</a></p><p style=\"font-size:13px;color:#5f5f6b\">")
                    .Append(WebUtility.HtmlEncode(address.AbsoluteUri)).Append("</p>");
                continue;
            }
            text.Append(Fill(paragraph, values, static v => v)).Append("\n\n");
            html.Append("<p>")
                .Append(Fill(WebUtility.HtmlEncode(paragraph), values, static v => WebUtility.HtmlEncode(v)).ReplaceLineEndings("<br>"))
                .Append("</p>");
        }
        html.Append("<hr style=\"border:none;border-top:1px solid #e0e0e6\"><p style=\"font-size:12px;color:#5f5f6b\">Sent by T2I Studio.</p></body></html>");
        return new OutgoingMail(toAddress, toName, subject, text.ToString().TrimEnd() + "\n", html.ToString());
    }

    private string Fill(string template, IReadOnlyDictionary<string, string> values, Func<string, string> encode) =>
        PlaceholderPattern().Replace(template, match =>
        {
            var key = match.Groups["key"].Value;
            return values.TryGetValue(key, out var value)
                ? encode(value)
                : throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Email template '{Name}' needs a value for '{key}'."));
        });

    [GeneratedRegex(@"\{\{(?<key>[A-Za-z][A-Za-z0-9]*)\}\}")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex(@"^\[\[(?<label>[^|\]]+)\|(?<url>[^\]]+)\]\]$")]
    private static partial Regex LinkPattern();
}

using T2IStudio.Testing;
using T2IStudio.Web.Email;

namespace T2IStudio.Web.Tests.Email;

/// <summary>The sender against a real SMTP server on loopback (aiosmtpd): what arrives is what the template says.</summary>
public sealed class MailDeliveryTests
{
    [Fact]
    public async Task A_message_arrives_with_its_text_and_html_bodies_and_sender()
    {
        await using var sink = await SmtpSink.StartAsync();
        var smtp = new SmtpOptions { Host = "127.0.0.1", Port = sink.Port, UseTls = false, From = "T2I Studio <studio@t2i.test>" };
        var mail = MailTemplate.Load("Test").Render("ana@example.com", "Ana", new Dictionary<string, string>
        {
            ["name"] = "Ana <script>",
            ["server"] = "studio.example.com",
            ["link"] = "https://studio.example.com/",
        });

        await SmtpMailSender.SendAsync(smtp, mail, CancellationToken.None);

        var received = await sink.WaitForAsync("ana@example.com");
        Assert.Equal("T2I Studio can send email", received.Subject);
        Assert.Equal("studio@t2i.test", Assert.Single(received.From.Mailboxes).Address);
        Assert.Contains("Hello Ana <script>,", received.TextBody, StringComparison.Ordinal);
        Assert.Contains("Open T2I Studio: https://studio.example.com/", received.TextBody, StringComparison.Ordinal);
        Assert.Contains("Hello Ana &lt;script&gt;,", received.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", received.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("href=\"https://studio.example.com/\"", received.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void A_template_value_that_is_missing_is_an_error_not_a_blank()
    {
        var template = MailTemplate.Load("Test");
        var error = Assert.Throws<InvalidOperationException>(() => template.Render("ana@example.com", null, new Dictionary<string, string> { ["name"] = "Ana" }));
        Assert.Contains("'server'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_link_that_is_not_http_is_refused()
    {
        var template = MailTemplate.Parse("Bad", "Subject: Hi\n\n[[Open|{{link}}]]\n");
        Assert.Throws<InvalidOperationException>(() => template.Render("ana@example.com", null, new Dictionary<string, string> { ["link"] = "javascript:alert(1)" }));
    }
}

using Bunit;
using T2IStudio.Web.Components.ApiDocs;

namespace T2IStudio.Web.Tests.Components.ApiDocs;

/// <summary>The reference shows the document's `code` spans as code, and leaves a lone backtick as written.</summary>
public sealed class ApiDocsProseTests : BunitContext
{
    [Fact]
    public void Backtick_spans_become_code_elements()
    {
        var rendered = Render(ApiDocsPage.Prose("Your jobs: `limit` (1–100) after `cursor`."));

        rendered.MarkupMatches("Your jobs: <code>limit</code> (1–100) after <code>cursor</code>.");
    }

    [Fact]
    public void An_unmatched_backtick_stays_text()
    {
        var rendered = Render(ApiDocsPage.Prose("a `b"));

        rendered.MarkupMatches("a `b");
    }
}

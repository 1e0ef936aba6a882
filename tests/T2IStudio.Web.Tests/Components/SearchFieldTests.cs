using Bunit;
using Microsoft.AspNetCore.Components.Web;
using T2IStudio.Web.Components.Shared;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

public sealed class SearchFieldTests : StudioComponentTestBase
{
    [Fact]
    public void Enter_reports_at_once_and_the_clear_button_empties_the_field()
    {
        var reported = new List<string>();
        var field = Render<SearchField>(p => p.Add(f => f.Label, "Search prompts").Add(f => f.DebounceMilliseconds, 60_000)
            .Add(f => f.ValueChanged, (string text) => reported.Add(text)));
        var input = field.Find("input");
        Assert.Equal(input.Id, field.Find("label").GetAttribute("for"));
        Assert.Empty(field.FindAll("button"));

        input.Input("red fox");
        Assert.Empty(reported); // the pause is a minute long here
        field.Find("input").KeyDown(new KeyboardEventArgs { Key = "Enter" });
        field.Find("button[aria-label='Clear Search prompts']").Click();

        Assert.Equal(["red fox", ""], reported);
        Assert.Equal("", field.Find("input").GetAttribute("value"));
        Assert.Empty(field.FindAll("button"));
    }

    [Fact]
    public void Typing_reports_after_a_pause_and_a_value_from_outside_replaces_the_text()
    {
        string? reported = null;
        var field = Render<SearchField>(p => p.Add(f => f.Label, "Search prompts").Add(f => f.DebounceMilliseconds, 20)
            .Add(f => f.ValueChanged, (string text) => reported = text));

        field.Find("input").Input("blue ");
        field.WaitForAssertion(() => Assert.Equal("blue ", reported));
        field.Render(p => p.Add(f => f.Value, "blue")); // the parent keeps it trimmed: what is typed stays
        Assert.Equal("blue ", field.Find("input").GetAttribute("value"));
        field.Render(p => p.Add(f => f.Value, "")); // filters reset elsewhere
        Assert.Equal("", field.Find("input").GetAttribute("value"));
    }
}

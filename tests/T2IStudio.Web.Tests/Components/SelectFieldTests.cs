using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using T2IStudio.Web.Components.Shared;

namespace T2IStudio.Web.Tests.Components;

/// <summary>SelectField: MudSelect's look in one component, with the combobox, listbox and option roles and the keyboard.</summary>
public sealed class SelectFieldTests : BunitContext
{
    private readonly List<int> _chosen = [];

    [Fact]
    public void A_closed_field_is_a_combobox_named_by_its_label_showing_the_chosen_text_and_renders_no_options()
    {
        var field = RenderSizes(value: 128, helper: "Pixels wide");

        var input = Combobox(field);
        Assert.Equal("Width", input.GetAttribute("aria-label"));
        Assert.Equal(input.Id, field.Find("label").GetAttribute("for"));
        Assert.Equal("Width", field.Find("label").TextContent);
        Assert.Equal("128 px", input.GetAttribute("value"));
        Assert.Equal("false", input.GetAttribute("aria-expanded"));
        Assert.Equal("listbox", input.GetAttribute("aria-haspopup"));
        Assert.True(input.HasAttribute("readonly"));
        Assert.Empty(field.FindAll("[role=option]"));
        Assert.Empty(field.FindAll("[role=listbox]"));
        Assert.Equal("Pixels wide", field.Find($"#{input.GetAttribute("aria-describedby")}").TextContent);
    }

    [Fact]
    public void A_click_opens_the_list_with_the_chosen_option_selected_and_a_click_on_another_option_chooses_it_and_closes()
    {
        var field = RenderSizes(value: 128);

        Combobox(field).Click();

        var input = Combobox(field);
        Assert.Equal("true", input.GetAttribute("aria-expanded"));
        Assert.Equal(field.Find("[role=listbox]").Id, input.GetAttribute("aria-controls"));
        Assert.Equal(["64 px", "128 px", "256 px", "512 px"], Options(field).Select(o => o.TextContent.Trim()));
        Assert.Equal(["false", "true", "false", "false"], Options(field).Select(o => o.GetAttribute("aria-selected")));

        Options(field)[2].Click();

        Assert.Equal([256], _chosen);
        Assert.Empty(field.FindAll("[role=option]"));
        Assert.Equal("false", Combobox(field).GetAttribute("aria-expanded"));
    }

    [Fact]
    public void The_arrow_keys_open_and_move_past_disabled_options_Enter_chooses_and_Escape_closes_without_choosing()
    {
        var field = RenderSizes(value: 64, disabled: side => side == 128);

        Key(field, "ArrowDown");
        Assert.Equal(Options(field)[0].Id, Combobox(field).GetAttribute("aria-activedescendant"));

        Key(field, "ArrowDown");
        Assert.Equal(Options(field)[2].Id, Combobox(field).GetAttribute("aria-activedescendant"));
        Assert.Equal("true", Options(field)[1].GetAttribute("aria-disabled"));
        Key(field, "End");
        Assert.Equal(Options(field)[3].Id, Combobox(field).GetAttribute("aria-activedescendant"));
        Key(field, "ArrowUp");
        Key(field, "Enter");

        Assert.Equal([256], _chosen);
        Assert.Empty(field.FindAll("[role=option]"));

        Key(field, " ");
        Assert.NotEmpty(field.FindAll("[role=option]"));
        Key(field, "ArrowDown");
        Key(field, "Escape");
        Assert.Empty(field.FindAll("[role=option]"));
        Assert.Equal([256], _chosen);
    }

    [Fact]
    public void A_disabled_option_cannot_be_chosen_choosing_the_current_value_raises_nothing_and_a_click_outside_closes()
    {
        var field = RenderSizes(value: 64, disabled: side => side == 128);

        Combobox(field).Click();
        Options(field)[1].Click();
        Assert.Empty(_chosen);
        Options(field)[0].Click();
        Assert.Empty(_chosen);
        Assert.Empty(field.FindAll("[role=option]"));

        Combobox(field).Click();
        field.Find(".studio-popover-overlay").Click();
        Assert.Empty(field.FindAll("[role=option]"));
        Assert.Empty(_chosen);
    }

    [Fact]
    public void A_disabled_field_neither_opens_on_a_click_nor_on_a_key()
    {
        var field = Render<SelectField<int>>(p => p
            .Add(f => f.Label, "Width").Add(f => f.Items, [64, 128]).Add(f => f.Value, 64).Add(f => f.Disabled, true)
            .Add(f => f.ValueChanged, EventCallback.Factory.Create<int>(this, _chosen.Add)));

        Assert.True(Combobox(field).HasAttribute("disabled"));
        Combobox(field).Click();
        Key(field, "ArrowDown");

        Assert.Empty(field.FindAll("[role=option]"));
        Assert.Empty(_chosen);
    }

    [Fact]
    public void Options_can_show_richer_content_under_their_own_accessible_name_while_the_field_shows_its_text()
    {
        var field = Render<SelectField<string>>(p => p
            .Add(f => f.Label, "Style").Add(f => f.Items, ["", "noir"]).Add(f => f.Value, "noir")
            .Add(f => f.ToStringFunc, s => string.IsNullOrEmpty(s) ? "No style" : "Noir · My styles")
            .Add(f => f.ItemName, s => s.Length == 0 ? null : "Noir (My styles)")
            .Add(f => f.ItemContent, s => builder => builder.AddMarkupContent(0, s.Length == 0 ? "No style" : "Noir <span class=\"mud-text-secondary\">· My styles</span>")));

        Assert.Equal("Noir · My styles", Combobox(field).GetAttribute("value"));
        Combobox(field).Click();

        Assert.Null(Options(field)[0].GetAttribute("aria-label"));
        Assert.Equal("No style", Options(field)[0].TextContent.Trim());
        Assert.Equal("Noir (My styles)", Options(field)[1].GetAttribute("aria-label"));
        Assert.NotNull(Options(field)[1].QuerySelector("span.mud-text-secondary"));
    }

    [Fact]
    public void A_bound_value_follows_the_choice()
    {
        var host = Render<SelectFieldHost>();

        host.Find("input[role=combobox]").Click();
        host.FindAll("[role=option]").Single(o => o.TextContent.Trim() == "Euler a").Click();

        Assert.Equal("euler-a", host.Instance.Scheduler);
        Assert.Equal("Euler a", host.Find("input[role=combobox]").GetAttribute("value"));
    }

    private IRenderedComponent<SelectField<int>> RenderSizes(int value, Func<int, bool>? disabled = null, string? helper = null) =>
        Render<SelectField<int>>(p => p
            .Add(f => f.Label, "Width").Add(f => f.Items, [64, 128, 256, 512]).Add(f => f.Value, value)
            .Add(f => f.ToStringFunc, side => $"{side} px").Add(f => f.ItemDisabled, disabled).Add(f => f.HelperText, helper)
            .Add(f => f.ValueChanged, EventCallback.Factory.Create<int>(this, _chosen.Add)));

    private static IElement Combobox<TComponent>(IRenderedComponent<TComponent> field) where TComponent : IComponent =>
        field.Find("input[role=combobox]");

    private static IReadOnlyList<IElement> Options<TComponent>(IRenderedComponent<TComponent> field) where TComponent : IComponent =>
        field.FindAll("[role=listbox] [role=option]");

    private static void Key<TComponent>(IRenderedComponent<TComponent> field, string key) where TComponent : IComponent =>
        Combobox(field).KeyDown(new KeyboardEventArgs { Key = key });
}

using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;

namespace T2IStudio.Web.Components.Shared;

/// <summary>
/// A single-choice select that looks like MudSelect (outlined, dense) but is one live component: a read-only
/// <c>combobox</c> input named by its label, and while open a <c>listbox</c> of <c>option</c>s. Enter, Space or an
/// arrow key opens it; the arrows, Home and End move through the enabled options; Enter or Space chooses; Escape and
/// Tab close it, as does a click outside.
/// </summary>
/// <typeparam name="T">The type of the values offered.</typeparam>
public partial class SelectField<T>
{
    private readonly string _id = "select-" + Guid.NewGuid().ToString("N")[..8];

    // The options while the list is open (read from Items when it opens), and the one the arrow keys are on.
    private List<T> _items = [];
    private bool _open;
    private int _active = -1;

    // Whether the keyboard has been used in the open list: only then is the active option marked, as a focus ring is.
    private bool _keyboard;

    /// <summary>The field's label, also its accessible name.</summary>
    [Parameter, EditorRequired] public string Label { get; set; } = "";

    /// <summary>The chosen value.</summary>
    [Parameter] public T? Value { get; set; }

    /// <summary>Raised with the chosen value when it differs from <see cref="Value"/>.</summary>
    [Parameter] public EventCallback<T?> ValueChanged { get; set; }

    /// <summary>The values offered, in order; read only when the list opens.</summary>
    [Parameter, EditorRequired] public IEnumerable<T> Items { get; set; } = [];

    /// <summary>The text the field shows for the chosen value and an option shows for its value (<c>ToString</c> unless given).</summary>
    [Parameter] public Func<T?, string>? ToStringFunc { get; set; }

    /// <summary>Options for which this answers true are shown but cannot be chosen.</summary>
    [Parameter] public Func<T, bool>? ItemDisabled { get; set; }

    /// <summary>What an option shows instead of its text (the field still shows <see cref="ToStringFunc"/>'s).</summary>
    [Parameter] public RenderFragment<T>? ItemContent { get; set; }

    /// <summary>An option's accessible name where its content alone would not read well.</summary>
    [Parameter] public Func<T, string?>? ItemName { get; set; }

    /// <summary>The line under the field.</summary>
    [Parameter] public string? HelperText { get; set; }

    /// <summary>MudBlazor's dense margin (a shorter field).</summary>
    [Parameter] public bool MarginDense { get; set; }

    /// <summary>Greys the field out; it neither opens nor takes focus.</summary>
    [Parameter] public bool Disabled { get; set; }

    /// <summary>Classes for the outer element (spacing).</summary>
    [Parameter] public string? Class { get; set; }

    private string ListId => _id + "-list";

    private string OptionId(int index) => $"{_id}-option-{index}";

    private string TextOf(T? value) => ToStringFunc is { } text ? text(value) : value?.ToString() ?? "";

    private bool IsSelected(T item) => EqualityComparer<T>.Default.Equals(item, Value);

    private string SelectClass => Class is null ? "mud-select" : "mud-select " + Class;

    private string ControlClass => MarginDense
        ? "mud-input-control mud-input-control-margin-dense mud-input-outlined-with-label mud-select"
        : "mud-input-control mud-input-outlined-with-label mud-select";

    private string InputClass => "mud-input mud-input-outlined mud-input-outlined-with-label mud-input-adorned-end"
        + (MarginDense ? " mud-input-margin-dense" : "") + " mud-shrink mud-typography-subtitle1 mud-select-input mud-input-sizing-fixed"
        + (Disabled ? " mud-disabled" : "");

    private string InputRootClass => MarginDense
        ? "mud-input-slot mud-input-root mud-input-root-outlined mud-input-root-adorned-end mud-input-root-margin-dense mud-select-input"
        : "mud-input-slot mud-input-root mud-input-root-outlined mud-input-root-adorned-end mud-select-input";

    private string LabelClass => "mud-input-label mud-input-label-animated mud-input-label-outlined"
        + (MarginDense ? " mud-input-label-margin-dense" : "") + " mud-input-label-inputcontrol" + (Disabled ? " mud-disabled" : "");

    private static string OptionClass(bool selected, bool disabled, bool active) =>
        "mud-list-item mud-list-item-dense mud-list-item-gutters"
        + (disabled ? " mud-list-item-disabled" : " mud-list-item-clickable mud-ripple")
        + (selected ? " mud-selected-item mud-primary-text mud-primary-hover" : "")
        + (active ? " studio-select-active" : "");

    private void Toggle()
    {
        if (_open)
        {
            Close();
        }
        else
        {
            Open();
        }
    }

    private void Open()
    {
        if (Disabled)
        {
            return;
        }
        _items = Items.ToList();
        _active = -1;
        for (var i = 0; i < _items.Count; i++)
        {
            if (IsSelected(_items[i]) && !IsDisabled(i))
            {
                _active = i;
            }
        }
        if (_active < 0)
        {
            _active = Step(-1, 1);
        }
        _open = true;
        _keyboard = false;
    }

    private void Close()
    {
        _open = false;
        _items = []; // the options live only while the list is open
        _active = -1;
    }

    private bool IsDisabled(int index) => ItemDisabled?.Invoke(_items[index]) == true;

    /// <summary>The next enabled option from <paramref name="from"/> in <paramref name="direction"/>, or where it was when there is none.</summary>
    private int Step(int from, int direction)
    {
        for (var i = from + direction; i >= 0 && i < _items.Count; i += direction)
        {
            if (!IsDisabled(i))
            {
                return i;
            }
        }
        return from;
    }

    private async Task KeyDownAsync(KeyboardEventArgs key)
    {
        if (Disabled)
        {
            return;
        }
        if (!_open)
        {
            if (key.Key is "Enter" or " " or "ArrowDown" or "ArrowUp")
            {
                Open();
                _keyboard = _open;
            }
            return;
        }
        _keyboard = true;
        switch (key.Key)
        {
            case "ArrowDown":
                _active = Step(_active, 1);
                break;
            case "ArrowUp":
                _active = Step(_active, -1);
                break;
            case "Home":
                _active = Step(-1, 1);
                break;
            case "End":
                _active = Step(_items.Count, -1);
                break;
            case "Enter" or " ":
                if (_active >= 0)
                {
                    await ChooseAsync(_active);
                }
                else
                {
                    Close();
                }
                break;
            case "Escape" or "Tab":
                Close();
                break;
        }
    }

    private async Task ChooseAsync(int index)
    {
        if (index < 0 || index >= _items.Count || IsDisabled(index))
        {
            return;
        }
        var chosen = _items[index];
        Close();
        if (!IsSelected(chosen))
        {
            await ValueChanged.InvokeAsync(chosen);
        }
    }
}

using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.JSInterop;

namespace T2IStudio.Web.Components.Layout;

/// <summary>
/// The keyboard of the app bar's menus, which draw MudMenu's markup themselves (a MudMenu is about six live
/// components, each costing an idle circuit about 5 KB): opened from the keyboard the menu focuses its first item
/// (opened with the mouse it does not, so nothing looks hovered), ArrowDown, ArrowUp, Home and End move the focus
/// among the items, and Escape closes it and gives the focus back to its button.
/// The menu component keeps one of these, points each item's <c>@ref</c> at <see cref="Items"/>, reports focus with
/// <see cref="Focused"/> and calls <see cref="ApplyAsync"/> after it renders.
/// </summary>
internal sealed class MenuFocus(int capacity)
{
    private int? _pending;
    private bool _toButton;

    /// <summary>The items' elements, in order (as many as the menu can show).</summary>
    public ElementReference[] Items { get; } = new ElementReference[capacity];

    /// <summary>The menu's button.</summary>
    public ElementReference Button { get; set; }

    /// <summary>The item that has the focus, as far as the menu knows.</summary>
    public int Current { get; private set; } = -1;

    /// <summary>
    /// The menu opened: from the keyboard, focus the first item (or <paramref name="first"/>, when the first is
    /// disabled) once it has rendered. A click the keyboard made (Enter or Space on the button) has no click count.
    /// </summary>
    public void Opened(MouseEventArgs? click, int first = 0)
    {
        Current = -1;
        _pending = click is { Detail: > 0 } ? null : first;
    }

    /// <summary>Give the focus back to the button once the menu has rendered closed.</summary>
    public void Closed()
    {
        Current = -1;
        _pending = null;
        _toButton = true;
    }

    /// <summary>An item took the focus (the mouse, Tab, or this).</summary>
    public void Focused(int index) => Current = index;

    /// <summary>
    /// Moves the focus for an arrow, Home or End among <paramref name="count"/> items; true when the key was one of
    /// those. Escape is the menu's own (it closes, then calls <see cref="Closed"/>).
    /// </summary>
    public bool Move(KeyboardEventArgs key, int count)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (count == 0)
        {
            return false;
        }
        int? next = key.Key switch
        {
            "ArrowDown" => (Current + 1) % count,
            "ArrowUp" => Current <= 0 ? count - 1 : Current - 1,
            "Home" => 0,
            "End" => count - 1,
            _ => null,
        };
        _pending = next;
        return next is not null;
    }

    /// <summary>After a render: moves the focus where it was asked to go, if anywhere.</summary>
    public async Task ApplyAsync()
    {
        var target = _toButton ? Button : _pending is { } index && index < Items.Length ? Items[index] : default;
        if (_pending is { } moved)
        {
            Current = moved;
        }
        _pending = null;
        _toButton = false;
        if (target.Context is null)
        {
            return; // nothing asked, or the element is not rendered
        }
        try
        {
            await target.FocusAsync();
        }
        catch (Exception ex) when (ex is JSDisconnectedException or TaskCanceledException or JSException)
        {
            // The circuit went away, or the element did: the focus is not worth an error.
        }
    }
}

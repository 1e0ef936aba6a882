using Microsoft.AspNetCore.Components;

namespace T2IStudio.Web.Components.Shared;

/// <summary>
/// MudBlazor's icon markup written straight into a parent's render tree. Every live <c>MudIcon</c> costs an idle
/// circuit about 5 KB (its own frame buffers and attribute dictionary); a decorative icon needs none of that, so pages
/// that show many of them write the same <c>&lt;svg&gt;</c> with the same classes as markup instead.
/// </summary>
public static class StaticIcon
{
    /// <summary>
    /// The <c>&lt;svg&gt;</c> MudIcon draws for <paramref name="icon"/> (one of MudBlazor's <c>Icons</c> strings),
    /// hidden from assistive technology because it only decorates a control that carries its own label.
    /// </summary>
    /// <param name="icon">The icon's inner SVG markup, e.g. <c>Icons.Material.Outlined.Brush</c>.</param>
    /// <param name="extraClass">
    /// Further classes (colour, placement), as MudIcon's <c>Class</c>; a <c>mud-icon-size-*</c> class here replaces
    /// the medium size.
    /// </param>
    public static MarkupString Svg(string icon, string? extraClass = null)
    {
        var size = extraClass?.Contains("mud-icon-size-", StringComparison.Ordinal) == true ? "" : " mud-icon-size-medium";
        var extra = string.IsNullOrEmpty(extraClass) ? "" : " " + extraClass;
        return new($"<svg class=\"mud-icon-root mud-svg-icon{size}{extra}\" focusable=\"false\" viewBox=\"0 0 24 24\" aria-hidden=\"true\">{icon}</svg>");
    }
}

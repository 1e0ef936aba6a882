using MudBlazor;
using MudBlazor.Utilities;
using T2IStudio.Web.Components.Layout;

namespace T2IStudio.Web.Tests.Components;

/// <summary>
/// Text in both themes reaches WCAG 2.1 AA for body text (4.5:1) on the page background and on surfaces
/// (cards, dialogs, menus), computed from the palette the app passes to MudBlazor.
/// </summary>
public sealed class StudioThemeContrastTests
{
    private const double AaBodyText = 4.5;

    public static TheoryData<string, string, string> TextOnBackgrounds()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (theme, palette) in new (string, Palette)[] { ("light", StudioTheme.Theme.PaletteLight), ("dark", StudioTheme.Theme.PaletteDark) })
        {
            foreach (var (textName, text) in new[] { ("TextPrimary", palette.TextPrimary), ("TextSecondary", palette.TextSecondary) })
            {
                data.Add($"{theme} {textName} on Background", text.ToString(MudColorOutputFormats.RGBA), palette.Background.ToString(MudColorOutputFormats.RGBA));
                data.Add($"{theme} {textName} on Surface", text.ToString(MudColorOutputFormats.RGBA), palette.Surface.ToString(MudColorOutputFormats.RGBA));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TextOnBackgrounds))]
    public void Text_reaches_four_and_a_half_to_one(string pair, string text, string background)
    {
        var ratio = ContrastRatio(new MudColor(text), new MudColor(background));

        Assert.True(ratio >= AaBodyText, $"{pair}: {text} on {background} is {ratio:0.00}:1, below {AaBodyText}:1.");
    }

    [Fact]
    public void The_ratio_matches_known_pairs()
    {
        Assert.Equal(21.0, ContrastRatio(new MudColor("#000000"), new MudColor("#ffffff")), 2);
        Assert.Equal(1.0, ContrastRatio(new MudColor("#777777"), new MudColor("#777777")), 2);
        // #767676 on white is the well-known lightest grey that passes AA.
        Assert.Equal(4.54, ContrastRatio(new MudColor("#767676"), new MudColor("#ffffff")), 2);
    }

    /// <summary>WCAG 2.1 contrast ratio; a translucent text colour is first blended over its background.</summary>
    private static double ContrastRatio(MudColor text, MudColor background)
    {
        var alpha = text.A / 255.0;
        double Blend(byte front, byte back) => (front * alpha) + (back * (1 - alpha));
        var foreground = RelativeLuminance(Blend(text.R, background.R), Blend(text.G, background.G), Blend(text.B, background.B));
        var back = RelativeLuminance(background.R, background.G, background.B);
        return (Math.Max(foreground, back) + 0.05) / (Math.Min(foreground, back) + 0.05);
    }

    private static double RelativeLuminance(double r, double g, double b) =>
        (0.2126 * Linear(r)) + (0.7152 * Linear(g)) + (0.0722 * Linear(b));

    private static double Linear(double channel)
    {
        var c = channel / 255.0;
        return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
    }
}

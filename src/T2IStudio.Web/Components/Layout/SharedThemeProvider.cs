#pragma warning disable BL0006 // reads the frames of its own base render: markup only, checked below
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.Components.RenderTree;
using MudBlazor;

namespace T2IStudio.Web.Components.Layout;

/// <summary>
/// MudBlazor's theme provider, its stylesheet shared by every circuit. The stock provider builds the same
/// ~12,400-character <c>&lt;style&gt;</c> afresh on each render of each circuit, and the renderer keeps the last two
/// render trees of every component, so each open tab held two private copies (about 50 KB of an idle circuit's
/// heap). Here the render is the stock one, and its markup is swapped for the one shared copy of the same text
/// before the renderer keeps it; the provider's behaviour (dark mode, the system preference) is MudBlazor's own.
/// </summary>
public sealed class SharedThemeProvider : MudThemeProvider
{
    // The distinct stylesheets: one per palette of the app's one theme. Bounded so that a theme changed at run time
    // (the app does not) could never grow it without end: past the bound the text is used unshared.
    private const int MaxShared = 16;
    private static readonly ConcurrentDictionary<string, string> Shared = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override void BuildRenderTree(RenderTreeBuilder __builder)
    {
        ArgumentNullException.ThrowIfNull(__builder);
        var scratch = new RenderTreeBuilder();
        base.BuildRenderTree(scratch);
        var frames = scratch.GetFrames();
        for (var i = 0; i < frames.Count; i++)
        {
            if (frames.Array[i].FrameType != RenderTreeFrameType.Markup)
            {
                // Not the markup-only render of MudBlazor 9: render as stock.
                base.BuildRenderTree(__builder);
                return;
            }
        }
        for (var i = 0; i < frames.Count; i++)
        {
            var markup = frames.Array[i].MarkupContent;
            var shared = Shared.TryGetValue(markup, out var known) ? known
                : Shared.Count < MaxShared ? Shared.GetOrAdd(markup, markup)
                : markup;
#pragma warning disable ASP0006 // the base render's own sequence numbers, replayed so diffs match them
            __builder.AddMarkupContent(frames.Array[i].Sequence, shared);
#pragma warning restore ASP0006
        }
    }
}

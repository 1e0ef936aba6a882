using System.Globalization;
using Microsoft.AspNetCore.Components;

namespace T2IStudio.Web.Components.Inpaint;

/// <summary>
/// An inpainting result over the picture it started from: a slider moves the split between before (left) and after
/// (right). From here the person continues editing the result or opens it in the viewer.
/// </summary>
public sealed partial class InpaintCompare
{
    /// <summary>Where the split starts for each new result, in percent from the left.</summary>
    public const int StartSplit = 50;

    private int _split = StartSplit;
    private Guid _shownResult;

    /// <summary>The picture the job started from (an <c>/images/{id}</c> URL or an upload's object URL).</summary>
    [Parameter, EditorRequired] public string BeforeUrl { get; set; } = "";

    /// <summary>The finished image.</summary>
    [Parameter, EditorRequired] public Guid ResultId { get; set; }

    /// <summary>The source's width in pixels (with <see cref="Height"/>, the frame's aspect ratio).</summary>
    [Parameter] public int Width { get; set; } = 1;

    /// <summary>The source's height in pixels.</summary>
    [Parameter] public int Height { get; set; } = 1;

    /// <summary>Raised with <see cref="ResultId"/> when the person wants to inpaint the result further.</summary>
    [Parameter] public EventCallback<Guid> OnContinueEditing { get; set; }

    /// <summary>Raised with <see cref="ResultId"/> when the person wants the result in the viewer.</summary>
    [Parameter] public EventCallback<Guid> OnOpenResult { get; set; }

    /// <inheritdoc />
    protected override void OnParametersSet()
    {
        if (ResultId != _shownResult)
        {
            _shownResult = ResultId;
            _split = StartSplit;
        }
    }

    private void SplitChanged(ChangeEventArgs e)
    {
        if (int.TryParse(e.Value?.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var split))
        {
            _split = Math.Clamp(split, 0, 100);
        }
    }
}

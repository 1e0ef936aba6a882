using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Images;

namespace T2IStudio.Web.Components.Images;

/// <summary>
/// Where an image came from and what was made from it: its parent and its children as thumbnails that open them.
/// Shows nothing until its own lineage has loaded, and nothing for an image with neither.
/// </summary>
public sealed partial class ImageLineage
{
    private Guid? _requested;
    private Guid? _loaded;
    private ImageTile? _parent;
    private IReadOnlyList<ImageTile> _children = [];

    /// <summary>The image whose lineage to show.</summary>
    [Parameter, EditorRequired] public GeneratedImage Image { get; set; } = null!;

    /// <summary>Raised with the parent's or a child's id to show it instead.</summary>
    [Parameter] public EventCallback<Guid> OnOpenImage { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private ImageLibrary Library { get; set; } = null!;

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        ArgumentNullException.ThrowIfNull(Image);
        var image = Image;
        if (image.Id == _requested)
        {
            return;
        }
        _requested = image.Id;
        _loaded = null;
        _parent = null;
        _children = [];
        var (parent, children) = await Library.LineageAsync((await AuthenticationState).User, image);
        if (_requested == image.Id)
        {
            (_parent, _children, _loaded) = (parent, children, image.Id);
        }
    }
}

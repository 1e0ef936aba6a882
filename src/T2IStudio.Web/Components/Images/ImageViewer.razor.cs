using Microsoft.AspNetCore.Components;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;

namespace T2IStudio.Web.Components.Images;

/// <summary>The picture and what made it: prompt, negative prompt and the parameter list. Reads no data of its own.</summary>
public sealed partial class ImageViewer
{
    private GeneratedImage? _read;
    private StoredRequest? _stored;

    /// <summary>The image to show, as the viewer loaded it (its parameters come from its stored request).</summary>
    [Parameter, EditorRequired] public GeneratedImage Image { get; set; } = null!;

    /// <summary>Laid over the picture before it (the viewer's "previous" button).</summary>
    [Parameter] public RenderFragment? PictureStart { get; set; }

    /// <summary>Laid over the picture after it (the viewer's "next" button).</summary>
    [Parameter] public RenderFragment? PictureEnd { get; set; }

    /// <summary>More about the image under its parameters (comments, lineage).</summary>
    [Parameter] public RenderFragment? ChildContent { get; set; }

    /// <inheritdoc />
    protected override void OnParametersSet()
    {
        ArgumentNullException.ThrowIfNull(Image);
        if (!ReferenceEquals(_read, Image))
        {
            _read = Image;
            _stored = GenerationMetadata.ReadStoredRequest(Image.RequestJson);
        }
    }
}

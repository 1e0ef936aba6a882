using Microsoft.JSInterop;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Components.Shared;

namespace T2IStudio.Web.Components.Inpaint;

/// <summary>
/// A picture someone uploaded on the Inpaint page. The server keeps <see cref="Image"/> (read and reduced by
/// <c>ImageUploads</c>); the browser shows the original file from <see cref="Url"/>, an object URL drawn at the kept
/// size so the mask lines up. <see cref="InpaintSourcePicker"/> makes it; whoever receives it owns the URL and
/// disposes this when it lets go of the upload, which revokes the URL in the browser.
/// </summary>
public sealed class InpaintUpload : IAsyncDisposable
{
    private readonly IJSObjectReference _module;
    private bool _disposed;

    internal InpaintUpload(RgbImage image, string url, string label, IJSObjectReference module)
    {
        Image = image;
        Url = url;
        Label = label;
        _module = module;
    }

    /// <summary>The picture at its kept size: what the job starts from.</summary>
    public RgbImage Image { get; }

    /// <summary>The browser's object URL for the chosen file.</summary>
    public string Url { get; }

    /// <summary>What the page says about the source ("Uploaded name.png", with the original size when it was reduced).</summary>
    public string Label { get; }

    /// <summary>Revokes the object URL and releases the module that made it; nothing to do once the browser is gone.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _module.TryInvokeVoidAsync("revokeUrl", Url);
        await _module.DisposeQuietlyAsync();
    }
}

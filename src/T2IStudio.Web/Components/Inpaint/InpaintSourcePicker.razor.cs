using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.JSInterop;
using MudBlazor;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Components.Shared;
using T2IStudio.Web.Images;

namespace T2IStudio.Web.Components.Inpaint;

/// <summary>
/// Where inpainting starts: the person's most recent images to pick from, or a file to upload. A picked image is
/// raised as its id; an upload is read on the server (<see cref="ImageUploads"/>, the trust boundary) and raised as an
/// <see cref="InpaintUpload"/> whose object URL this component's own module (<c>InpaintSourcePicker.razor.js</c>) made.
/// </summary>
public sealed partial class InpaintSourcePicker
{
    /// <summary>How many recent images the chooser offers.</summary>
    public const int RecentCount = 12;

    private const string ModulePath = "./Components/Inpaint/InpaintSourcePicker.razor.js";

    private readonly CancellationTokenSource _leaving = new();
    private InputFile? _upload;
    private IReadOnlyList<ImageTile>? _recent;

    /// <summary>Raised with the id of the recent image the person picked.</summary>
    [Parameter] public EventCallback<Guid> OnImageChosen { get; set; }

    /// <summary>Raised with an upload the server accepted. The receiver owns it and disposes it when done with it.</summary>
    [Parameter] public EventCallback<InpaintUpload> OnUploaded { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private ImageLibrary Library { get; set; } = null!;

    [Inject] private ImageUploads Uploads { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private IJSRuntime JS { get; set; } = null!;

    /// <inheritdoc />
    protected override async Task OnInitializedAsync()
    {
        var user = (await AuthenticationState).User;
        _recent = (await Library.PageAsync(user, new GalleryFilter(), 0, RecentCount, _leaving.Token)).Tiles;
    }

    private async Task UploadAsync(InputFileChangeEventArgs e)
    {
        var file = e.File;
        // The service is the trust boundary: it reads, checks and reduces the file; the page keeps only the result.
        UploadOutcome outcome;
        try
        {
            outcome = await Uploads.ReadAsync(file, _leaving.Token);
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            return; // the page is going away
        }
        if (outcome.Image is not { } decoded)
        {
            Snackbar.Add(outcome.Refusal!, Severity.Error);
            return;
        }
        var upload = await ShowInBrowserAsync(decoded, Label(file.Name, outcome.Header, decoded));
        if (upload is not null)
        {
            await OnUploaded.InvokeAsync(upload);
        }
    }

    /// <summary>Gives the chosen file an object URL; null when the browser lost the file (said) or the circuit is gone.</summary>
    private async Task<InpaintUpload?> ShowInBrowserAsync(RgbImage image, string label)
    {
        // Each upload holds its own module reference: it outlives this chooser, which the editor replaces.
        var module = await JS.ImportModuleAsync(ModulePath);
        if (module is null)
        {
            return null;
        }
        InpaintUpload? upload = null;
        try
        {
            var (ok, url) = await module.TryInvokeAsync<string?>("fileUrl", _upload!.Element);
            if (!ok)
            {
                return null; // the circuit is gone
            }
            if (url is null)
            {
                Snackbar.Add("The browser lost the file; choose it again.", Severity.Error);
                return null;
            }
            upload = new InpaintUpload(image, url, label, module);
            return upload;
        }
        finally
        {
            if (upload is null)
            {
                await module.DisposeQuietlyAsync();
            }
        }
    }

    /// <summary>"Uploaded name", with the stored size when the server reduced the picture (a quarter turn alone is not a reduction).</summary>
    private static string Label(string fileName, ImageHeader? header, RgbImage decoded) =>
        header is { } h && (h.Width, h.Height) != (decoded.Width, decoded.Height) && (h.Height, h.Width) != (decoded.Width, decoded.Height)
            ? $"Uploaded {fileName} ({h.Width} × {h.Height}, reduced)"
            : $"Uploaded {fileName}";

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _leaving.CancelAsync();
        // Cancelled, not disposed: work queued just before the page left still reads its token.
    }
}

using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Components.Shared;

namespace T2IStudio.Web.Components.Inpaint;

/// <summary>What the editor reports after each change.</summary>
/// <param name="CanUndo">Undo has something to undo.</param>
/// <param name="CanRedo">Redo has something to redo.</param>
/// <param name="Painted">Something is painted (the mask is not empty).</param>
/// <param name="Tool">"brush" or "eraser".</param>
/// <param name="Size">Brush diameter in image pixels.</param>
public sealed record MaskEditorState(bool CanUndo, bool CanRedo, bool Painted, string Tool, int Size);

/// <summary>
/// The mask editor: a canvas over the image where the person paints what to change. The drawing happens in the
/// browser (<c>MaskEditor.razor.js</c>, imported lazily and disposed with the component); the finished mask
/// comes back as a PNG through a size-capped stream, never as one SignalR message. Calls go through
/// <see cref="JSInteropExtensions"/>, so a closed circuit is not an error; a script error surfaces like any other.
/// </summary>
public sealed partial class MaskEditor
{
    private const string ModulePath = "./Components/Inpaint/MaskEditor.razor.js";

    private ElementReference _canvas;
    private IJSObjectReference? _module;
    private IJSObjectReference? _editor;
    private DotNetObjectReference<MaskEditor>? _self;
    private string? _loadedUrl;
    private bool _ready;
    private string _tool = "brush";
    private int _size = 8;
    private int _hardness = 70;
    private string _colour = "#e0529c";
    private int _opacity = 55;
    private bool _canUndo;
    private bool _canRedo;

    /// <summary>The image to paint on: an authorized <c>/images/{id}</c> URL or an object URL of an upload.</summary>
    [Parameter, EditorRequired] public string ImageUrl { get; set; } = "";

    /// <summary>The image's width in pixels (the mask's width).</summary>
    [Parameter, EditorRequired] public int Width { get; set; }

    /// <summary>The image's height in pixels (the mask's height).</summary>
    [Parameter, EditorRequired] public int Height { get; set; }

    /// <summary>Raised after every stroke, undo, redo, clear or invert.</summary>
    [Parameter] public EventCallback<MaskEditorState> StateChanged { get; set; }

    /// <summary>Raised when the browser cannot load the image.</summary>
    [Parameter] public EventCallback ImageFailed { get; set; }

    [Inject] private IJSRuntime JS { get; set; } = null!;

    private int MaxBrush => Math.Clamp(Math.Max(Width, Height) / 2, 8, 512);

    protected override void OnParametersSet()
    {
        if (_loadedUrl != ImageUrl)
        {
            _size = Math.Clamp(Math.Max(Width, Height) / 10, 1, MaxBrush);
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (_loadedUrl == ImageUrl || string.IsNullOrEmpty(ImageUrl))
        {
            return;
        }
        _loadedUrl = ImageUrl;
        _module ??= await JS.ImportModuleAsync(ModulePath);
        if (_module is null)
        {
            return; // the circuit is gone
        }
        _self ??= DotNetObjectReference.Create(this);
        await ReleaseEditorAsync();
        _ready = false;
        var (_, editor) = await _module.TryInvokeAsync<IJSObjectReference>("create", _canvas, _self, ImageUrl, Width, Height,
            new { size = _size, hardness = _hardness / 100.0, colour = _colour, opacity = _opacity / 100.0 });
        _editor = editor;
    }

    /// <summary>The painted mask as a PNG at the image's size, read through a stream capped at <see cref="MaskFiles.MaxBytes"/>.</summary>
    public async Task<byte[]?> ExportMaskAsync(CancellationToken cancellationToken = default)
    {
        if (_editor is null)
        {
            return null;
        }
        var (_, reference) = await _editor.TryInvokeAsync<IJSStreamReference>("exportMask");
        if (reference is null)
        {
            return null; // the circuit is gone
        }
        // The reference holds the browser's copy of the PNG until it is released.
        await using var exported = reference;
        cancellationToken.ThrowIfCancellationRequested();
        await using var stream = await exported.OpenReadStreamAsync(MaskFiles.MaxBytes, cancellationToken);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>Called by the script after each change.</summary>
    [JSInvokable]
    public async Task OnEditorState(MaskEditorState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _ready = true;
        _canUndo = state.CanUndo;
        _canRedo = state.CanRedo;
        _tool = state.Tool;
        _size = Math.Clamp(state.Size, 1, MaxBrush);
        // A call from the script has no one to tell about a failure but the circuit (an exception here would only
        // reject a promise in the browser).
        try
        {
            await StateChanged.InvokeAsync(state);
        }
        catch (Exception ex)
        {
            await DispatchExceptionAsync(ex);
        }
        StateHasChanged();
    }

    /// <summary>Called by the script when the image cannot be loaded.</summary>
    [JSInvokable]
    public async Task OnImageFailed()
    {
        try
        {
            await ImageFailed.InvokeAsync();
        }
        catch (Exception ex)
        {
            await DispatchExceptionAsync(ex);
        }
    }

    private async Task SetToolAsync(string tool)
    {
        _tool = tool;
        await CallAsync("setTool", tool);
    }

    private Task UndoAsync() => CallAsync("undo");

    private Task RedoAsync() => CallAsync("redo");

    private Task ClearAsync() => CallAsync("clear");

    private Task InvertAsync() => CallAsync("invert");

    private async Task SizeChangedAsync(ChangeEventArgs e)
    {
        if (int.TryParse(e.Value?.ToString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var size))
        {
            _size = Math.Clamp(size, 1, MaxBrush);
            await CallAsync("setSize", _size);
        }
    }

    private async Task HardnessChangedAsync(ChangeEventArgs e)
    {
        if (int.TryParse(e.Value?.ToString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var hardness))
        {
            _hardness = Math.Clamp(hardness, 0, 100);
            await CallAsync("setHardness", _hardness / 100.0);
        }
    }

    private async Task ColourChangedAsync(ChangeEventArgs e)
    {
        _colour = e.Value?.ToString() is { Length: 7 } colour && colour[0] == '#' ? colour : _colour;
        await CallAsync("setOverlay", _colour, _opacity / 100.0);
    }

    private async Task OpacityChangedAsync(ChangeEventArgs e)
    {
        if (int.TryParse(e.Value?.ToString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var opacity))
        {
            _opacity = Math.Clamp(opacity, 10, 100);
            await CallAsync("setOverlay", _colour, _opacity / 100.0);
        }
    }

    // A script error propagates to the renderer, which reports it like any other handler failure.
    private async Task CallAsync(string method, params object?[] args)
    {
        if (_editor is not null)
        {
            await _editor.TryInvokeVoidAsync(method, args);
        }
    }

    private async Task ReleaseEditorAsync()
    {
        if (_editor is { } editor)
        {
            _editor = null;
            await editor.TryInvokeVoidAsync("dispose");
            await editor.DisposeQuietlyAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await ReleaseEditorAsync();
        await _module.DisposeQuietlyAsync();
        _self?.Dispose();
    }
}

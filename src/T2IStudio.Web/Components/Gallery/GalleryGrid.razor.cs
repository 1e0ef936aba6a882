using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web.Virtualization;
using Microsoft.JSInterop;
using T2IStudio.Web.Components.Shared;
using T2IStudio.Web.Images;

namespace T2IStudio.Web.Components.Gallery;

/// <summary>
/// The gallery's tiles: a virtualized grid of rows holding as many square tiles as fit the width (its script
/// reports the column count as the width changes), loading pages of images as it scrolls.
/// </summary>
public sealed partial class GalleryGrid : IAsyncDisposable
{
    private const int TileWidth = 200;
    private const int Gap = 8;
    private ElementReference _gridElement;
    private Virtualize<IReadOnlyList<ImageTile>>? _virtualize;
    private IJSObjectReference? _module;
    private IJSObjectReference? _observer;
    private DotNetObjectReference<GalleryGrid>? _self;
    private int _columns = 4;
    private float _rowHeight = TileWidth + Gap;

    /// <summary>Loads a page of tiles (skip, take) with the total they come from: the person's images or a gallery's, filtered.</summary>
    [Parameter, EditorRequired] public Func<int, int, CancellationToken, Task<(IReadOnlyList<ImageTile> Tiles, int Total)>> LoadPage { get; set; } = null!;

    /// <summary>The total the page shows (null while it counts); a load that finds another raises <see cref="TotalChanged"/>.</summary>
    [Parameter] public int? Total { get; set; }

    /// <summary>Raised when a loaded page reports a total other than <see cref="Total"/> (images arrived or went).</summary>
    [Parameter] public EventCallback<int> TotalChanged { get; set; }

    /// <summary>Hides the grid (while counting, or when there is nothing to show) without losing its place.</summary>
    [Parameter] public bool Hidden { get; set; }

    /// <summary>Raised with an image's id when its tile is clicked.</summary>
    [Parameter] public EventCallback<Guid> OnOpen { get; set; }

    [Inject] private IJSRuntime JS { get; set; } = null!;

    private string RowStyle => $"grid-template-columns: repeat({_columns}, minmax(0, 1fr));";

    /// <summary>Loads the visible rows again (after the filter, the gallery or its images changed).</summary>
    public async Task RefreshAsync()
    {
        if (_virtualize is not null)
        {
            await _virtualize.RefreshDataAsync();
        }
        StateHasChanged();
    }

    /// <summary>Called by the grid's script with the number of columns that fit and the width they share.</summary>
    [JSInvokable]
    public async Task SetColumns(int columns, int width)
    {
        columns = Math.Clamp(columns, 1, 12);
        _rowHeight = (float)(width - (columns - 1) * Gap) / columns + Gap;
        if (columns == _columns)
        {
            return;
        }
        _columns = columns;
        try
        {
            await RefreshAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Thrown back to the script it would vanish in the browser console; the circuit's error UI shows it instead.
            await DispatchExceptionAsync(ex);
        }
    }

    /// <inheritdoc />
    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }
        _module = await JS.ImportModuleAsync("./Components/Gallery/GalleryGrid.razor.js");
        if (_module is null)
        {
            return;
        }
        _self = DotNetObjectReference.Create(this);
        (_, _observer) = await _module.TryInvokeAsync<IJSObjectReference>("observeColumns", _gridElement, _self, TileWidth);
    }

    private async ValueTask<ItemsProviderResult<IReadOnlyList<ImageTile>>> LoadRowsAsync(ItemsProviderRequest request)
    {
        var columns = _columns;
        var (tiles, total) = await LoadPage(request.StartIndex * columns, request.Count * columns, request.CancellationToken);
        if (total != Total)
        {
            await TotalChanged.InvokeAsync(total);
        }
        var rows = tiles.Chunk(columns).Select(r => (IReadOnlyList<ImageTile>)r).ToList();
        return new ItemsProviderResult<IReadOnlyList<ImageTile>>(rows, (total + columns - 1) / columns);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_observer is not null)
        {
            await _observer.TryInvokeVoidAsync("dispose");
            await _observer.DisposeQuietlyAsync();
        }
        await _module.DisposeQuietlyAsync();
        _self?.Dispose();
    }
}

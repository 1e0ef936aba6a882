using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Comments;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Images;

/// <summary>
/// An image's comments: the list, adding, and editing or deleting one's own. It follows <see cref="CommentsChanged"/>
/// for the image it shows (one subscription per image, ended when the image changes or the viewer closes), so a
/// teammate's comment appears without a reload.
/// </summary>
public sealed partial class ImageComments : IDisposable
{
    private Guid? _loaded;
    private IReadOnlyList<CommentView> _comments = [];
    private bool _canComment;
    private bool _severalGalleries;
    private string _newComment = "";
    private Guid? _editing;
    private string _editText = "";
    private IDisposable? _subscription;

    /// <summary>The image whose comments to show.</summary>
    [Parameter, EditorRequired] public GeneratedImage Image { get; set; } = null!;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = null!;

    [Inject] private CommentService Comments { get; set; } = null!;

    [Inject] private GalleryService Galleries { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private ILogger<ImageComments> Logger { get; set; } = null!;

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        ArgumentNullException.ThrowIfNull(Image);
        var id = Image.Id;
        if (id == _loaded)
        {
            return;
        }
        _loaded = id;
        _comments = [];
        _canComment = false;
        _severalGalleries = false;
        _editing = null;
        _subscription?.Dispose();
        _subscription = null;
        var user = (await AuthenticationState).User;
        if (_loaded != id)
        {
            return;
        }
        if (ResourceAccess.UserId(user) is { } userId)
        {
            _subscription = Events.Subscribe(userId, e => e is CommentsChanged changed && changed.ImageId == id ? InvokeAsync(ReloadOnEventAsync) : Task.CompletedTask);
        }
        var comments = Comments.ListAsync(user, id);
        var canComment = Comments.CanCommentAsync(user, id);
        var holding = Galleries.HoldingAsync(user, id);
        await Task.WhenAll(comments, canComment, holding);
        if (_loaded == id)
        {
            _comments = await comments;
            _canComment = await canComment;
            // A review entry names its gallery only where it could be another one.
            _severalGalleries = (await holding).Count > 1;
        }
    }

    private async Task ReloadAsync()
    {
        var id = Image.Id;
        var comments = await Comments.ListAsync((await AuthenticationState).User, id);
        if (_loaded == id)
        {
            _comments = comments;
        }
    }

    // Pushed from another circuit's change. The viewer renders through the dialog provider, outside the page's error
    // boundary, so a failed refresh is said in a snackbar (the list stays as it was) rather than thrown at the circuit.
    private async Task ReloadOnEventAsync()
    {
        try
        {
            await ReloadAsync();
            StateHasChanged();
        }
        catch (Exception ex) when (ex is Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            LogRefreshFailed(Logger, ex);
            Snackbar.Add("New comments could not be loaded; reopen the image to see them.", Severity.Warning);
        }
    }

    private static string ReviewWords(ReviewState state) => state switch
    {
        ReviewState.Approved => "approved this",
        ReviewState.ChangesRequested => "requested changes",
        _ => "marked this as needing review",
    };

    private static string ReviewIcon(ReviewState state) => state switch
    {
        ReviewState.Approved => Icons.Material.Outlined.CheckCircle,
        ReviewState.ChangesRequested => Icons.Material.Outlined.Feedback,
        _ => Icons.Material.Outlined.HourglassEmpty,
    };

    private static Color ReviewColor(ReviewState state) => state switch
    {
        ReviewState.Approved => Color.Success,
        ReviewState.ChangesRequested => Color.Warning,
        _ => Color.Default,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing an image's comments failed")]
    private static partial void LogRefreshFailed(ILogger logger, Exception ex);

    private async Task AddAsync()
    {
        var result = await Comments.AddAsync((await AuthenticationState).User, Image.Id, _newComment);
        if (!result.Succeeded)
        {
            Snackbar.Add(result.FirstErrorOr("That image is gone."), Severity.Error);
            return;
        }
        _newComment = "";
        await ReloadAsync();
    }

    private void StartEdit(CommentView comment)
    {
        _editing = comment.Id;
        _editText = comment.Text;
    }

    private async Task SaveEditAsync()
    {
        if (_editing is not { } commentId)
        {
            return;
        }
        var result = await Comments.EditAsync((await AuthenticationState).User, commentId, _editText);
        if (!result.Succeeded)
        {
            Snackbar.Add(result.FirstErrorOr("That comment is gone."), Severity.Error);
            return;
        }
        _editing = null;
        await ReloadAsync();
    }

    private async Task DeleteAsync(CommentView comment)
    {
        // A comment someone else already deleted is gone either way: the list reloads and shows it.
        await Comments.DeleteAsync((await AuthenticationState).User, comment.Id);
        await ReloadAsync();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _subscription?.Dispose();
        _subscription = null;
    }
}

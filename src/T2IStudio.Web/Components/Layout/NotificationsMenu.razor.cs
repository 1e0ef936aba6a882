using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using T2IStudio.Web.Access;
using T2IStudio.Web.Notifications;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Components.Layout;

/// <summary>
/// The notifications bell in the app bar: a badge with the unread count, the recent notifications (opening one marks
/// it read and follows its link), "Mark all as read"; a new one bumps the badge and shows a snackbar with "View".
/// </summary>
public sealed partial class NotificationsMenu : IAsyncDisposable
{
    /// <summary>How many notifications the menu lists.</summary>
    internal const int Shown = 20;

    private readonly CancellationTokenSource _leaving = new();
    private readonly string _listId = "notifications-" + Guid.NewGuid().ToString("N")[..8];
    private readonly MenuFocus _focus = new(Shown + 1); // Mark all as read, then the notifications

    [Inject] private ILogger<NotificationsMenu> Logger { get; set; } = null!;
    private System.Security.Claims.ClaimsPrincipal _user = new();
    private string? _userId;
    private IDisposable? _subscription;
    private int _unread;
    private bool _open;
    private List<NotificationView>? _items;

    [CascadingParameter] private Task<AuthenticationState>? AuthenticationState { get; set; }

    [Inject] private NotificationService Notifications { get; set; } = null!;

    [Inject] private StudioNotifier Events { get; set; } = null!;

    [Inject] private NavigationManager Navigation { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Inject] private TimeProvider Time { get; set; } = null!;

    private string UnreadLabel => _unread switch
    {
        0 => "No unread notifications",
        1 => "1 unread notification",
        _ => $"{_unread} unread notifications",
    };

    /// <inheritdoc />
    protected override async Task OnInitializedAsync()
    {
        if (AuthenticationState is null)
        {
            return;
        }
        _user = (await AuthenticationState).User;
        _userId = ResourceAccess.UserId(_user);
        if (_userId is not null)
        {
            await GuardAsync(async () => _unread = await Notifications.UnreadCountAsync(_user, _leaving.Token));
        }
    }

    /// <inheritdoc />
    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && _userId is not null)
        {
            _subscription = Events.Subscribe(_userId, OnEventAsync);
        }
        await _focus.ApplyAsync();
    }

    private Task OnEventAsync(StudioEvent studioEvent) => studioEvent switch
    {
        NotificationAdded added => OnAddedAsync(added),
        // Read on another page of the person's: this bell reads the count (and its open list) again.
        NotificationsRead => InvokeAsync(async () =>
        {
            if (_open)
            {
                await ReloadAsync();
            }
            else
            {
                await GuardAsync(async () => _unread = await Notifications.UnreadCountAsync(_user, _leaving.Token));
            }
            StateHasChanged();
        }),
        _ => Task.CompletedTask,
    };

    private Task OnAddedAsync(NotificationAdded added) =>
        InvokeAsync(() =>
        {
            _unread++;
            _items?.Insert(0, new NotificationView(added.NotificationId, added.Text, added.Link, Time.GetUtcNow(), IsRead: false));
            Snackbar.Add(added.Text, Severity.Info, options =>
            {
                if (added.Link is { } link && NotificationService.IsLocal(link))
                {
                    options.Action = "View";
                    options.ActionColor = Color.Primary;
                    options.OnClick = _ => InvokeAsync(async () =>
                    {
                        await OpenAsync(new NotificationView(added.NotificationId, added.Text, link, default, IsRead: false));
                        // Not this component's own event: it renders the new count itself.
                        StateHasChanged();
                    });
                }
            }, key: $"notification-{added.NotificationId}");
            StateHasChanged();
        });

    private async Task ToggleAsync(MouseEventArgs? click)
    {
        if (_open)
        {
            Close();
            return;
        }
        _open = true;
        await ReloadAsync();
        // "Mark all as read" is disabled with nothing unread: then the first notification takes the focus.
        _focus.Opened(click, _unread == 0 && _items is { Count: > 0 } ? 1 : 0);
    }

    private void Close()
    {
        _open = false;
        _focus.Closed();
    }

    private Task ButtonKeyAsync(KeyboardEventArgs key) =>
        !_open && key.Key is "ArrowDown" or "ArrowUp" ? ToggleAsync(null) : Task.CompletedTask;

    private void MenuKey(KeyboardEventArgs key)
    {
        if (key.Key == "Escape")
        {
            Close();
        }
        else
        {
            _focus.Move(key, 1 + Math.Min(_items?.Count ?? 0, Shown));
        }
    }

    private Task ItemKeyAsync(KeyboardEventArgs key, NotificationView item) =>
        key.Key is "Enter" or " " ? OpenAsync(item) : Task.CompletedTask;

    private Task ReloadAsync() => GuardAsync(async () =>
    {
        _items = [.. await Notifications.ListAsync(_user, Shown, _leaving.Token)];
        _unread = await Notifications.UnreadCountAsync(_user, _leaving.Token);
    });

    /// <summary>Marks <paramref name="item"/> read and follows its link, if it has one.</summary>
    private async Task OpenAsync(NotificationView item)
    {
        await GuardAsync(async () =>
        {
            if (!item.IsRead && await Notifications.MarkReadAsync(_user, item.Id, _leaving.Token))
            {
                var index = _items?.FindIndex(i => i.Id == item.Id) ?? -1;
                if (index >= 0)
                {
                    _items![index] = _items[index] with { IsRead = true };
                }
                _unread = await Notifications.UnreadCountAsync(_user, _leaving.Token);
            }
        });
        _open = false;
        if (item.Link is { } link && NotificationService.IsLocal(link))
        {
            Navigation.NavigateTo(link);
        }
    }

    private async Task MarkAllReadAsync()
    {
        await GuardAsync(() => Notifications.MarkAllReadAsync(_user, _leaving.Token));
        await ReloadAsync();
    }

    /// <summary>
    /// Runs a database step of the bell: the bell lives in the layout, outside every page's error boundary, so a
    /// failure here says so in a snackbar instead of ending the circuit.
    /// </summary>
    private async Task GuardAsync(Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            // The layout is going away.
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or Microsoft.EntityFrameworkCore.DbUpdateException or InvalidOperationException or TimeoutException)
        {
            LogFailed(Logger, ex);
            Snackbar.Add("Notifications could not be read just now; try again in a moment.", Severity.Warning);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The notifications bell could not read or change notifications")]
    private static partial void LogFailed(ILogger logger, Exception ex);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _leaving.CancelAsync();
        // Cancelled, not disposed: a read queued just before the layout went still reads its token.
    }
}

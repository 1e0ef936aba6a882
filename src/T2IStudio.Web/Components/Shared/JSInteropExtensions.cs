using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace T2IStudio.Web.Components.Shared;

/// <summary>
/// The app's one way to call JavaScript from a component (after MudBlazor's <c>IJSRuntimeExtensions</c>). When the
/// circuit goes away mid-call the browser is gone with everything the call would have touched, so
/// <see cref="JSDisconnectedException"/> and <see cref="TaskCanceledException"/> are not errors: the call reports
/// <c>false</c> (or no value) and the component goes on. A <see cref="JSException"/> is a real script error and is
/// left to the caller, which shows it (a snackbar) or hands it to <c>DispatchExceptionAsync</c>.
/// </summary>
public static class JSInteropExtensions
{
    /// <summary>
    /// Copies a secret shown once (a token, a worker key) to the clipboard and says so in a snackbar:
    /// "<paramref name="thing"/> copied.", or, when the browser refuses (the clipboard needs HTTPS or localhost), that
    /// the person should select the <paramref name="selectable"/> and copy it themselves.
    /// </summary>
    public static async Task CopySecretAsync(this IJSRuntime js, MudBlazor.ISnackbar snackbar, string secret, string thing, string selectable)
    {
        ArgumentNullException.ThrowIfNull(js);
        ArgumentNullException.ThrowIfNull(snackbar);
        try
        {
            if (await js.TryInvokeVoidAsync("navigator.clipboard.writeText", secret))
            {
                snackbar.Add($"{thing} copied.", MudBlazor.Severity.Success);
            }
        }
        catch (JSException)
        {
            // The secret stays selectable in its field.
            snackbar.Add($"The browser refused the clipboard: select the {selectable} and copy it.", MudBlazor.Severity.Warning);
        }
    }

    /// <summary>Imports a collocated ES module (<c>./Components/Feature/Name.razor.js</c>); null when the circuit is gone.</summary>
    public static async ValueTask<IJSObjectReference?> ImportModuleAsync(this IJSRuntime js, string path)
    {
        ArgumentNullException.ThrowIfNull(js);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (ok, module) = await js.TryInvokeAsync<IJSObjectReference>("import", path);
        return ok ? module : null;
    }

    /// <summary>Calls a function of a module or object; false when the circuit went away first.</summary>
    public static ValueTask<bool> TryInvokeVoidAsync(this IJSObjectReference target, string identifier, params object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(target);
        return TryAsync(() => target.InvokeVoidAsync(identifier, args));
    }

    /// <summary>Calls a function of a module or object for a value; <c>Ok</c> is false when the circuit went away first.</summary>
    public static ValueTask<(bool Ok, T? Value)> TryInvokeAsync<T>(this IJSObjectReference target, string identifier, params object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(target);
        return TryAsync(() => target.InvokeAsync<T>(identifier, args));
    }

    /// <summary>Calls a global function for a value; <c>Ok</c> is false when the circuit went away first.</summary>
    public static ValueTask<(bool Ok, T? Value)> TryInvokeAsync<T>(this IJSRuntime js, string identifier, params object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(js);
        return TryAsync(() => js.InvokeAsync<T>(identifier, args));
    }

    /// <summary>Calls a global function; false when the circuit went away first.</summary>
    public static ValueTask<bool> TryInvokeVoidAsync(this IJSRuntime js, string identifier, params object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(js);
        return TryAsync(() => js.InvokeVoidAsync(identifier, args));
    }

    /// <summary>Releases a module or object reference; nothing to do when the browser already took it away.</summary>
    public static async ValueTask DisposeQuietlyAsync(this IJSObjectReference? reference)
    {
        if (reference is not null)
        {
            await TryAsync(reference.DisposeAsync);
        }
    }

    /// <summary>
    /// Moves focus to an element as a convenience (the page works without it): besides a closed circuit, an element
    /// that left the DOM before the call landed (a <see cref="JSException"/>) is ignored too.
    /// </summary>
    public static async ValueTask<bool> TryFocusAsync(this ElementReference element, bool preventScroll = true)
    {
        try
        {
            await element.FocusAsync(preventScroll);
            return true;
        }
        catch (Exception ex) when (IsCircuitGone(ex) || ex is JSException)
        {
            return false;
        }
    }

    private static async ValueTask<bool> TryAsync(Func<ValueTask> call)
    {
        try
        {
            await call();
            return true;
        }
        catch (Exception ex) when (IsCircuitGone(ex))
        {
            return false;
        }
    }

    private static async ValueTask<(bool Ok, T? Value)> TryAsync<T>(Func<ValueTask<T>> call)
    {
        try
        {
            return (true, await call());
        }
        catch (Exception ex) when (IsCircuitGone(ex))
        {
            return (false, default);
        }
    }

    /// <summary>True for the exceptions a call throws because the circuit (and so the browser) is gone.</summary>
    public static bool IsCircuitGone(Exception exception) => exception is JSDisconnectedException or TaskCanceledException;
}

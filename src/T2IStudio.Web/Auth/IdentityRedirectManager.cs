using Microsoft.AspNetCore.Components;

namespace T2IStudio.Web.Auth;

/// <summary>Redirects from static account pages, refusing anything but local paths (no open redirects).</summary>
internal sealed class IdentityRedirectManager(NavigationManager navigationManager)
{
    /// <summary>The path itself when it is local to this app, otherwise the home page.</summary>
    public static string LocalOrHome(string? uri) =>
        uri is { Length: > 0 } && uri[0] == '/' && !uri.StartsWith("//", StringComparison.Ordinal) && !uri.StartsWith("/\\", StringComparison.Ordinal)
            && Uri.IsWellFormedUriString(uri, UriKind.Relative)
            ? uri
            : "/";

    public void RedirectTo(string? uri)
    {
        navigationManager.NavigateTo(LocalOrHome(uri));
    }
}

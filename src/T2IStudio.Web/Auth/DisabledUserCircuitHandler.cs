using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Refuses every inbound circuit event (clicks, input, navigation) of an account that is disabled
/// or deleted, and sends the browser to the sign-in page, whose request drops the cookie.
/// </summary>
public sealed partial class DisabledUserCircuitHandler(
    AuthenticationStateProvider authenticationStateProvider,
    NavigationManager navigation,
    UserAccessGate gate,
    ILogger<DisabledUserCircuitHandler> logger) : RefusingCircuitHandler(navigation)
{
    /// <summary>Where a refused user is sent; the sign-in page explains why.</summary>
    public const string RefusedUri = "/Account/Login?status=disabled";

    /// <inheritdoc />
    protected override string RedirectUri => RefusedUri;

    /// <inheritdoc />
    protected override async Task<bool> IsRefusedAsync()
    {
        var state = await authenticationStateProvider.GetAuthenticationStateAsync();
        var userId = state.User.FindFirstValue(ClaimTypes.NameIdentifier);
        return userId is not null && !await gate.IsAllowedAsync(userId);
    }

    /// <inheritdoc />
    protected override void OnRefused() => LogRefused();

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a circuit event of a disabled account; signing it out.")]
    private partial void LogRefused();
}

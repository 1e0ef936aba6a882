using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Refuses every inbound circuit event (clicks, input, navigation) of an account that is disabled
/// or deleted, and sends the browser to the sign-in page, whose request drops the cookie.
/// </summary>
public sealed partial class DisabledUserCircuitHandler(
    AuthenticationStateProvider authenticationStateProvider,
    NavigationManager navigation,
    UserAccessGate gate,
    ILogger<DisabledUserCircuitHandler> logger) : CircuitHandler
{
    /// <summary>Where a refused user is sent; the sign-in page explains why.</summary>
    public const string RefusedUri = "/Account/Login?status=disabled";

    private bool _refused;

    /// <inheritdoc />
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            if (await IsRefusedAsync())
            {
                if (!_refused)
                {
                    _refused = true;
                    LogRefused();
                    navigation.NavigateTo(RefusedUri, forceLoad: true);
                }
                return;
            }
            await next(context);
        };

    private async Task<bool> IsRefusedAsync()
    {
        if (_refused)
        {
            return true;
        }
        var state = await authenticationStateProvider.GetAuthenticationStateAsync();
        var userId = state.User.FindFirstValue(ClaimTypes.NameIdentifier);
        return userId is not null && !await gate.IsAllowedAsync(userId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a circuit event of a disabled account; signing it out.")]
    private partial void LogRefused();
}

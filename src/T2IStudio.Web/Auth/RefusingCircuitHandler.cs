using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace T2IStudio.Web.Auth;

/// <summary>
/// A circuit handler that, once <see cref="IsRefusedAsync"/> says so, refuses every inbound event (clicks, input,
/// navigation) of the circuit from then on and sends the browser, once, to <see cref="RedirectUri"/> with a full load,
/// so the request there passes the HTTP pipeline's checks again.
/// </summary>
public abstract class RefusingCircuitHandler(NavigationManager navigation) : CircuitHandler
{
    private bool _refused;

    /// <summary>The circuit's navigation (where it is, and where a refused one goes).</summary>
    protected NavigationManager Navigation { get; } = navigation;

    /// <summary>Where a refused circuit's browser is sent.</summary>
    protected abstract string RedirectUri { get; }

    /// <inheritdoc />
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            if (_refused)
            {
                return;
            }
            if (await IsRefusedAsync())
            {
                _refused = true;
                OnRefused();
                Navigation.NavigateTo(RedirectUri, forceLoad: true);
                return;
            }
            await next(context);
        };

    /// <summary>Whether this event (and so every later one) of the circuit is refused.</summary>
    protected abstract Task<bool> IsRefusedAsync();

    /// <summary>Called once, when the circuit is first refused (to log why).</summary>
    protected abstract void OnRefused();
}

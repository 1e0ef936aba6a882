using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using System.Security.Claims;

namespace T2IStudio.Web.Tests.Components;

public sealed class DisabledUserCircuitHandlerTests : StudioComponentTestBase
{
    [Fact]
    public async Task Events_of_an_active_account_pass_through()
    {
        var user = await AddUserAsync("active@example.test");
        var (handler, nav) = CreateHandler(user.Id);
        var calls = 0;

        await handler.CreateInboundActivityHandler(_ => { calls++; return Task.CompletedTask; })(null!);

        Assert.Equal(1, calls);
        Assert.Empty(nav.History);
    }

    [Fact]
    public async Task The_next_event_of_a_disabled_account_is_refused_and_the_browser_goes_to_sign_in()
    {
        var user = await AddUserAsync("gone@example.test");
        var (handler, nav) = CreateHandler(user.Id);
        var calls = 0;
        var inbound = handler.CreateInboundActivityHandler(_ => { calls++; return Task.CompletedTask; });
        await inbound(null!);

        await using (var db = CreateDb())
        {
            await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsDisabled, true));
        }
        Services.GetRequiredService<UserAccessGate>().Remember(user.Id, allowed: false);

        await inbound(null!);
        await inbound(null!);

        Assert.Equal(1, calls);
        var navigation = Assert.Single(nav.History);
        Assert.EndsWith(DisabledUserCircuitHandler.RefusedUri, navigation.Uri, StringComparison.Ordinal);
        Assert.True(navigation.Options.ForceLoad);
    }

    private (CircuitHandler Handler, BunitNavigationManager Navigation) CreateHandler(string userId)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("someone");
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
        var handler = new DisabledUserCircuitHandler(
            Services.GetRequiredService<AuthenticationStateProvider>(),
            Services.GetRequiredService<NavigationManager>(),
            Services.GetRequiredService<UserAccessGate>(),
            NullLogger<DisabledUserCircuitHandler>.Instance);
        return (handler, Services.GetRequiredService<BunitNavigationManager>());
    }
}

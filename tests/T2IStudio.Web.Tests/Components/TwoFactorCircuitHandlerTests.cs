using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Auth.TwoFactor;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

/// <summary>
/// <c>Accounts:RequireTwoFactor</c> inside a circuit (<see cref="TwoFactorCircuitHandler"/>): a circuit the enrolment
/// middleware let start (from <c>/not-found</c>) or that outlived turning two-factor off is refused and reloaded into
/// the enrolment page; company sign-ins, enrolled accounts and studios that do not require it pass.
/// </summary>
public sealed class TwoFactorCircuitHandlerTests : StudioComponentTestBase
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_password_session_without_a_second_factor_is_sent_to_enrol_at_its_first_circuit_event()
    {
        var user = await AddUserAsync("nofactor@example.test");
        var (handler, nav) = CreateHandler(required: true, new Claim(ClaimTypes.NameIdentifier, user.Id));
        var calls = 0;
        var inbound = handler.CreateInboundActivityHandler(_ => { calls++; return Task.CompletedTask; });

        await inbound(null!);
        await inbound(null!);

        Assert.Equal(0, calls);
        var navigation = Assert.Single(nav.History);
        Assert.EndsWith(TwoFactorEnrolment.RequiredRedirect, navigation.Uri, StringComparison.Ordinal);
        Assert.True(navigation.Options.ForceLoad);
    }

    [Fact]
    public async Task A_circuit_whose_second_factor_is_turned_off_elsewhere_is_refused_at_its_next_event_after_the_recheck()
    {
        var user = await AddUserAsync("enrolled@example.test");
        await SetTwoFactorAsync(user.Id, enabled: true);
        var (handler, nav) = CreateHandler(required: true,
            new Claim(ClaimTypes.NameIdentifier, user.Id), new Claim(StudioClaimsPrincipalFactory.TwoFactorClaim, "on"));
        var calls = 0;
        var inbound = handler.CreateInboundActivityHandler(_ => { calls++; return Task.CompletedTask; });
        await inbound(null!);
        Assert.Equal(1, calls);

        await SetTwoFactorAsync(user.Id, enabled: false);
        _time.Advance(TimeSpan.FromSeconds(3));
        await inbound(null!);

        Assert.Equal(1, calls);
        Assert.EndsWith(TwoFactorEnrolment.RequiredRedirect, Assert.Single(nav.History).Uri, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task Studios_that_do_not_require_it_and_company_sign_ins_pass(bool required, bool company)
    {
        var user = await AddUserAsync($"pass-{required}-{company}@example.test");
        List<Claim> claims = [new(ClaimTypes.NameIdentifier, user.Id)];
        if (company)
        {
            claims.Add(new Claim(ClaimTypes.AuthenticationMethod, OidcOptions.Scheme));
        }
        var (handler, nav) = CreateHandler(required, [.. claims]);
        var calls = 0;
        await handler.CreateInboundActivityHandler(_ => { calls++; return Task.CompletedTask; })(null!);
        Assert.Equal(1, calls);
        Assert.Empty(nav.History);
    }

    [Fact]
    public void The_handler_is_registered_for_every_circuit()
    {
        using var scope = Services.CreateScope();
        Assert.Contains(scope.ServiceProvider.GetServices<CircuitHandler>(), h => h is TwoFactorCircuitHandler);
    }

    private async Task SetTwoFactorAsync(string userId, bool enabled)
    {
        await using var db = CreateDb();
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.TwoFactorEnabled, enabled));
    }

    private (CircuitHandler Handler, BunitNavigationManager Navigation) CreateHandler(bool required, params Claim[] claims)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("someone");
        auth.SetClaims(claims);
        var handler = ActivatorUtilities.CreateInstance<TwoFactorCircuitHandler>(
            Services, new FixedOptions(new AccountOptions { RequireTwoFactor = required }), (TimeProvider)_time);
        return (handler, Services.GetRequiredService<BunitNavigationManager>());
    }

    private sealed class FixedOptions(AccountOptions value) : IOptionsMonitor<AccountOptions>
    {
        public AccountOptions CurrentValue => value;

        public AccountOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AccountOptions, string?> listener) => null;
    }
}

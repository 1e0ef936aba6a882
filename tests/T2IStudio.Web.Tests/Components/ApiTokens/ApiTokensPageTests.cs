using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Api;
using T2IStudio.Web.Components.ApiTokens;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.ApiTokens;

/// <summary>Account → API tokens on the real token service and database: make one (shown once), use it, revoke it.</summary>
public sealed class ApiTokensPageTests : StudioComponentTestBase
{
    private const string SecretField = "[data-testid=api-token-secret] input, input[data-testid=api-token-secret]";
    private const string NameField = "[data-testid=api-token-name] input, input[data-testid=api-token-name]";

    [Fact]
    public async Task Enter_in_the_name_makes_a_token_whose_secret_is_shown_once_listed_and_authenticates()
    {
        var user = await SignInAsync("maker@example.test");
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Contains("No API tokens yet.", page.Markup, StringComparison.Ordinal));
        Assert.NotEmpty(page.FindAll("a[href='/api-docs']"));

        await page.InvokeAsync(() => page.FindComponent<MudSelect<ApiTokenScope>>().Instance.SelectOption(ApiTokenScope.ReadAndGenerate));
        await page.InvokeAsync(() => page.FindComponent<MudSelect<ApiTokenLifetime>>().Instance.SelectOption(ApiTokenLifetime.Never));
        await page.InvokeAsync(() => page.Find(NameField).Input("ci"));
        await page.InvokeAsync(() => page.Find(NameField).KeyDown(new KeyboardEventArgs { Key = "Enter" }));

        var secret = "";
        page.WaitForAssertion(() =>
        {
            secret = page.Find(SecretField).GetAttribute("value") ?? "";
            Assert.StartsWith(ApiTokenClaims.SecretPrefix, secret, StringComparison.Ordinal);
            Assert.Contains("Your new token", page.Markup, StringComparison.Ordinal);
            Assert.Contains("will not be shown again", page.Markup, StringComparison.Ordinal);
            Assert.NotNull(page.Find("button[aria-label='Revoke token ci']"));
        });
        Assert.NotEmpty(page.FindAll("button[aria-label='Copy token']"));
        var row = page.Find("table[aria-label='Your API tokens'] tbody tr");
        Assert.Contains("Read and generate", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("Active", row.TextContent, StringComparison.Ordinal);
        // Never used and never expiring: both say so.
        Assert.Equal("never", row.QuerySelector("td[data-label='Last used']")!.TextContent.Trim());
        Assert.Equal("never", row.QuerySelector("td[data-label='Expires']")!.TextContent.Trim());

        // The secret authenticates as its maker with the chosen scope; only its hash is stored.
        var match = await Services.GetRequiredService<ApiTokenService>().VerifyAsync(secret, CancellationToken.None);
        Assert.NotNull(match);
        Assert.Equal(user.Id, match.OwnerId);
        Assert.Equal(ApiTokenScope.ReadAndGenerate, match.Scope);
        await using (var db = CreateDb())
        {
            var stored = await db.ApiTokens.SingleAsync();
            Assert.Equal("ci", stored.Name);
            Assert.Null(stored.ExpiresAt);
            Assert.Equal(ApiTokenService.Hash(secret), stored.SecretHash);
        }

        // Done: the secret is gone from the page, and a fresh visit never shows it.
        await page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Done").Click());
        page.WaitForAssertion(() => Assert.DoesNotContain(secret, page.Markup, StringComparison.Ordinal));
        await DisposeComponentsAsync();
        var again = RenderPage();
        again.WaitForAssertion(() => Assert.NotNull(again.Find("button[aria-label='Revoke token ci']")));
        Assert.DoesNotContain(secret, again.Markup, StringComparison.Ordinal);
        Assert.Empty(again.FindAll(SecretField));
    }

    [Fact]
    public async Task The_Create_token_button_makes_a_token_that_expires_on_the_chosen_day()
    {
        await SignInAsync("expiry@example.test");
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Contains("No API tokens yet.", page.Markup, StringComparison.Ordinal));

        await page.InvokeAsync(() => page.FindComponent<MudSelect<ApiTokenLifetime>>().Instance.SelectOption(ApiTokenLifetime.Days7));
        await page.InvokeAsync(() => page.Find(NameField).Input("weekly"));
        var before = DateTimeOffset.UtcNow;
        await page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Create token").Click());

        page.WaitForAssertion(() => Assert.NotNull(page.Find("button[aria-label='Revoke token weekly']")));
        await using var db = CreateDb();
        var stored = await db.ApiTokens.SingleAsync();
        Assert.Equal(ApiTokenScope.Read, stored.Scope);
        Assert.InRange(stored.ExpiresAt!.Value, before.AddDays(7).AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(7).AddMinutes(1));
        var expires = page.Find("table[aria-label='Your API tokens'] tbody tr td[data-label='Expires']").TextContent.Trim();
        Assert.Equal(ApiTokenDisplay.Time(stored.ExpiresAt), expires);
    }

    [Fact]
    public async Task An_empty_name_is_refused_on_the_name_field_and_makes_nothing()
    {
        await SignInAsync("blank@example.test");
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Contains("No API tokens yet.", page.Markup, StringComparison.Ordinal));

        await page.InvokeAsync(() => page.Find(NameField).Input("   "));
        await page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Create token").Click());

        page.WaitForAssertion(() =>
        {
            // The message sits under the name field, which reads as invalid to assistive technology.
            var field = page.FindComponent<MudTextField<string>>();
            Assert.Equal("Give the token a name.", field.Find(".mud-input-helper-text.mud-input-error").TextContent.Trim());
            Assert.Equal("true", page.Find(NameField).GetAttribute("aria-invalid"));
        });
        Assert.Empty(page.FindAll(SecretField));
        await using var db = CreateDb();
        Assert.Empty(await db.ApiTokens.ToListAsync());
    }

    [Fact]
    public async Task Revoking_after_confirming_marks_the_token_Revoked_and_it_no_longer_authenticates()
    {
        var user = await SignInAsync("revoker@example.test");
        var tokens = Services.GetRequiredService<ApiTokenService>();
        var created = await tokens.CreateAsync(Principal(user.Id), "ci", ApiTokenScope.Read, null);
        var secret = created.Created!.Secret;
        Assert.NotNull(await tokens.VerifyAsync(secret, CancellationToken.None));

        var page = RenderPage();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("button[aria-label='Revoke token ci']")));
        // Keep it: nothing changes.
        await page.InvokeAsync(() => page.Find("button[aria-label='Revoke token ci']").Click());
        await page.InvokeAsync(() => ConfirmButton(page, "Keep it").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll(".mud-message-box")));
        Assert.NotNull(await tokens.VerifyAsync(secret, CancellationToken.None));

        await page.InvokeAsync(() => page.Find("button[aria-label='Revoke token ci']").Click());
        await page.InvokeAsync(() => ConfirmButton(page, "Revoke").Click());

        page.WaitForAssertion(() =>
        {
            Assert.Empty(page.FindAll("button[aria-label='Revoke token ci']"));
            Assert.Equal("Revoked", page.Find("table[aria-label='Your API tokens'] tbody tr td[data-label='Status']").TextContent.Trim());
        });
        Assert.Null(await tokens.VerifyAsync(secret, CancellationToken.None));
    }

    private IRenderedComponent<ApiTokensHost> RenderPage() =>
        Render<ApiTokensHost>(p => p.AddChildContent<ApiTokensPage>());

    /// <summary>A button of the open confirmation (MudBlazor's message box).</summary>
    internal static AngleSharp.Dom.IElement ConfirmButton(IRenderedComponent<ApiTokensHost> host, string text) =>
        host.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == text);
}

using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Api;
using T2IStudio.Web.Components.ApiTokens;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.ApiTokens;

/// <summary>The Admin page's "API tokens" section: everyone's tokens, revocable by an admin, invisible to anyone else.</summary>
public sealed class AdminApiTokensTests : StudioComponentTestBase
{
    [Fact]
    public async Task An_admin_sees_another_persons_token_with_its_owner_and_revokes_it()
    {
        AddGenerationServices();
        var admin = await AddUserAsync("root@example.test");
        var other = await AddUserAsync("bea@example.test");
        await MakeAdminAsync(admin.Id);
        var auth = AddAuthorization();
        auth.SetAuthorized(admin.Email!);
        auth.SetRoles(AppDbContext.AdminRole);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, admin.Id));
        var tokens = Services.GetRequiredService<ApiTokenService>();
        var secret = (await tokens.CreateAsync(Principal(other.Id), "ci", ApiTokenScope.ReadAndGenerate, null)).Created!.Secret;

        var section = Render<ApiTokensHost>(p => p.AddChildContent<AdminApiTokens>());
        const string revoke = "button[aria-label='Revoke token ci of bea@example.test']";
        section.WaitForAssertion(() => Assert.NotNull(section.Find(revoke)));
        var row = section.Find("table[aria-label='API tokens'] tbody tr");
        Assert.Equal("bea@example.test", row.QuerySelector("td[data-label='Owner']")!.TextContent.Trim());
        Assert.Equal("Read and generate", row.QuerySelector("td[data-label='Scope']")!.TextContent.Trim());
        Assert.Equal("Active", row.QuerySelector("td[data-label='Status']")!.TextContent.Trim());

        await section.InvokeAsync(() => section.Find(revoke).Click());
        await section.InvokeAsync(() => ApiTokensPageTests.ConfirmButton(section, "Revoke").Click());

        section.WaitForAssertion(() =>
        {
            Assert.Empty(section.FindAll(revoke));
            Assert.Equal("Revoked", section.Find("table[aria-label='API tokens'] tbody tr td[data-label='Status']").TextContent.Trim());
        });
        Assert.Null(await tokens.VerifyAsync(secret, CancellationToken.None));
    }

    [Fact]
    public async Task Someone_who_is_not_an_admin_never_sees_the_section()
    {
        var member = await SignInAsync("member@example.test");
        var other = await AddUserAsync("bea@example.test");
        var tokens = Services.GetRequiredService<ApiTokenService>();
        await tokens.CreateAsync(Principal(other.Id), "theirs", ApiTokenScope.Read, null);
        await tokens.CreateAsync(Principal(member.Id), "mine", ApiTokenScope.Read, null);

        var section = Render<ApiTokensHost>(p => p.AddChildContent<AdminApiTokens>());

        Assert.Empty(section.FindAll("h2"));
        Assert.Empty(section.FindAll("table"));
        Assert.DoesNotContain("theirs", section.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("mine", section.Markup, StringComparison.Ordinal);
    }

    private async Task MakeAdminAsync(string userId)
    {
        await using var db = CreateDb();
        var role = new IdentityRole(AppDbContext.AdminRole) { NormalizedName = AppDbContext.AdminRole.ToUpperInvariant() };
        db.Roles.Add(role);
        db.UserRoles.Add(new IdentityUserRole<string> { UserId = userId, RoleId = role.Id });
        await db.SaveChangesAsync();
    }
}

using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Components;

/// <summary>Admin → Worker keys: create a named key (shown once), list it, revoke it.</summary>
public sealed class WorkerKeysSectionTests : StudioComponentTestBase
{
    [Fact]
    public async Task An_admin_creates_a_key_sees_it_once_and_revokes_it()
    {
        AddGenerationServices();
        var admin = await AddUserAsync("keys@example.test");
        await using (var db = CreateDb())
        {
            var role = new IdentityRole(AppDbContext.AdminRole) { NormalizedName = AppDbContext.AdminRole.ToUpperInvariant() };
            db.Roles.Add(role);
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = admin.Id, RoleId = role.Id });
            await db.SaveChangesAsync();
        }
        var auth = AddAuthorization();
        auth.SetAuthorized(admin.Email!);
        auth.SetRoles(AppDbContext.AdminRole);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, admin.Id));

        var page = Render<WorkerKeysHost>();
        page.WaitForAssertion(() => Assert.Contains("No worker keys yet.", page.Markup, StringComparison.Ordinal));
        await page.InvokeAsync(() => page.Find("input[data-testid=worker-key-name], [data-testid=worker-key-name] input").Input("gpu box"));
        await page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Create key").Click());

        string secret = "";
        page.WaitForAssertion(() =>
        {
            secret = page.Find("input[data-testid=worker-key-secret], [data-testid=worker-key-secret] input").GetAttribute("value") ?? "";
            Assert.StartsWith(WorkerKeyService.SecretPrefix, secret, StringComparison.Ordinal);
            Assert.NotNull(page.Find("button[aria-label='Revoke worker key gpu box']"));
        });
        await using (var db = CreateDb())
        {
            var row = await db.WorkerKeys.SingleAsync();
            Assert.Equal("gpu box", row.Name);
            Assert.Equal(WorkerKeyVerifier.Hash(secret), row.KeyHash);
            Assert.Equal(admin.Id, row.CreatedById);
        }

        await page.InvokeAsync(() => page.Find("button[aria-label='Revoke worker key gpu box']").Click());

        page.WaitForAssertion(() =>
        {
            Assert.Empty(page.FindAll("button[aria-label='Revoke worker key gpu box']"));
            Assert.Contains("Revoked", page.Markup, StringComparison.Ordinal);
        });
        await using var check = CreateDb();
        Assert.NotNull((await check.WorkerKeys.SingleAsync()).RevokedAt);
    }
}

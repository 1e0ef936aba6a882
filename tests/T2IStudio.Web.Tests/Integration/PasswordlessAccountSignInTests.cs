using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// An account made by company sign-in has no password: posting wrong passwords for it must not lock the account,
/// since a locked account is shut for its company sign-in too.
/// </summary>
public sealed class PasswordlessAccountSignInTests
{
    [Fact]
    public async Task Wrong_passwords_for_an_account_without_one_neither_count_nor_lock_it()
    {
        using var app = new StudioAppFactory();
        const string email = "company-only@example.test";
        string id;
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var user = new AppUser { UserName = email, Email = email, EmailConfirmed = true, DisplayName = "Company", CreatedAt = DateTimeOffset.UtcNow };
            Assert.True((await users.CreateAsync(user)).Succeeded);
            Assert.True((await users.AddLoginAsync(user, new UserLoginInfo("oidc", "company-subject", "Example SSO"))).Succeeded);
            id = user.Id;
        }
        using var client = app.CreateBrowserlikeClient();

        for (var i = 0; i < 7; i++)
        {
            var response = await TestAccounts.SignInAsync(client, email, $"Wrong-Pass-{i}");
            Assert.NotEqual(HttpStatusCode.Redirect, response.StatusCode);
        }

        using var check = app.Services.CreateScope();
        var manager = check.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var stored = (await manager.FindByIdAsync(id))!;
        Assert.False(await manager.IsLockedOutAsync(stored));
        Assert.Equal(0, await manager.GetAccessFailedCountAsync(stored));
        Assert.False(await manager.HasPasswordAsync(stored));
    }
}

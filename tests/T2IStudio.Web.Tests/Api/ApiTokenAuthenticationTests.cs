using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Api;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Api;

/// <summary>The token scheme over real HTTP: tokens authenticate the API and nothing else; cookies never authenticate the API.</summary>
public sealed class ApiTokenAuthenticationTests(StudioAppFixture fixture) : IClassFixture<StudioAppFixture>
{
    private readonly StudioAppFactory _app = fixture.Factory;

    [Fact]
    public async Task A_token_authenticates_the_api_as_its_owner()
    {
        var user = await _app.CreateUserAsync("me@token.test");
        var secret = await _app.CreateTokenAsync(user, ApiTokenScope.Read);
        Assert.StartsWith(ApiTokenClaims.SecretPrefix, secret, StringComparison.Ordinal);
        using var client = _app.CreateApiClient(secret);

        var me = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/me", UriKind.Relative));

        Assert.Equal(user.Id, me.GetProperty("userId").GetString());
        Assert.Equal("me@token.test", me.GetProperty("email").GetString());
        Assert.Equal("Read", me.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task No_token_or_a_wrong_one_answers_401_problem_with_a_bearer_challenge()
    {
        foreach (var token in new string?[] { null, "t2i_not-a-real-token", "garbage" })
        {
            using var client = _app.CreateApiClient(token);
            var response = await client.GetAsync(new Uri("/api/v1/me", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(401, problem.GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task A_signed_in_cookie_does_not_authenticate_the_api()
    {
        var user = await _app.CreateUserAsync("cookie@token.test");
        using var browser = _app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(browser, user.Email!, TestAccounts.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(new Uri("/gallery", UriKind.Relative))).StatusCode);

        var response = await browser.GetAsync(new Uri("/api/v1/me", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_token_does_not_authenticate_pages()
    {
        var user = await _app.CreateUserAsync("pages@token.test");
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user));

        var response = await client.GetAsync(new Uri("/gallery", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_revoked_and_disabled_owners_tokens_stop_at_the_next_request()
    {
        var user = await _app.CreateUserAsync("life@token.test");
        var expiring = await _app.CreateTokenAsync(user, expiresAt: DateTimeOffset.UtcNow.AddHours(1), name: "expiring");
        var revoked = await _app.CreateTokenAsync(user, name: "revoked");
        using var expiringClient = _app.CreateApiClient(expiring);
        using var revokedClient = _app.CreateApiClient(revoked);
        Assert.Equal(HttpStatusCode.OK, (await expiringClient.GetAsync(new Uri("/api/v1/me", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await revokedClient.GetAsync(new Uri("/api/v1/me", UriKind.Relative))).StatusCode);

        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var row = await db.ApiTokens.SingleAsync(t => t.SecretHash == ApiTokenService.Hash(expiring));
            row.ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1);
            await db.SaveChangesAsync();
            Assert.NotNull(row.LastUsedAt);
        }
        using (var scope = _app.Services.CreateScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<ApiTokenService>();
            var id = (await tokens.ListAsync(StudioAppFactory.PrincipalOf(user))).Single(t => t.Name == "revoked").Id;
            Assert.True(await tokens.RevokeAsync(StudioAppFactory.PrincipalOf(user), id));
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await expiringClient.GetAsync(new Uri("/api/v1/me", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await revokedClient.GetAsync(new Uri("/api/v1/me", UriKind.Relative))).StatusCode);

        var live = await _app.CreateTokenAsync(user, name: "live");
        using var liveClient = _app.CreateApiClient(live);
        Assert.Equal(HttpStatusCode.OK, (await liveClient.GetAsync(new Uri("/api/v1/me", UriKind.Relative))).StatusCode);

        // The owner is disabled and re-enabled the way the Admin page does it: through AccountAdministration, by an admin.
        var admin = await _app.CreateUserAsync("life-admin@token.test");
        await _app.MakeAdminAsync(admin);
        using (var scope = _app.Services.CreateScope())
        {
            Assert.True((await scope.ServiceProvider.GetRequiredService<AccountAdministration>().SetDisabledAsync(admin.Id, user.Id, disabled: true)).Succeeded);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await liveClient.GetAsync(new Uri("/api/v1/me", UriKind.Relative))).StatusCode);

        using (var scope = _app.Services.CreateScope())
        {
            Assert.True((await scope.ServiceProvider.GetRequiredService<AccountAdministration>().SetDisabledAsync(admin.Id, user.Id, disabled: false)).Succeeded);
        }
        using var again = await liveClient.GetAsync(new Uri("/api/v1/me", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(user.Id, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("userId").GetString());
    }

    [Fact]
    public async Task Someone_elses_token_cannot_be_revoked_by_them_but_an_admin_can()
    {
        var owner = await _app.CreateUserAsync("owner@revoke.test");
        var other = await _app.CreateUserAsync("other@revoke.test");
        await _app.CreateTokenAsync(owner, name: "owned");
        using var scope = _app.Services.CreateScope();
        var tokens = scope.ServiceProvider.GetRequiredService<ApiTokenService>();
        var id = (await tokens.ListAsync(StudioAppFactory.PrincipalOf(owner))).Single().Id;

        Assert.False(await tokens.RevokeAsync(StudioAppFactory.PrincipalOf(other), id));
        Assert.Empty(await tokens.ListAllAsync(StudioAppFactory.PrincipalOf(other)));

        var admin = await _app.CreateUserAsync("admin@revoke.test");
        await _app.MakeAdminAsync(admin);
        Assert.Contains(await tokens.ListAllAsync(StudioAppFactory.PrincipalOf(admin)), t => t.Id == id);
        Assert.True(await tokens.RevokeAsync(StudioAppFactory.PrincipalOf(admin), id));
        Assert.False(await tokens.RevokeAsync(StudioAppFactory.PrincipalOf(owner), id));
    }

    [Fact]
    public async Task The_secret_is_stored_only_as_its_hash()
    {
        var user = await _app.CreateUserAsync("hash@token.test");
        var secret = await _app.CreateTokenAsync(user);
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var row = await db.ApiTokens.SingleAsync(t => t.OwnerId == user.Id);
        Assert.Equal(ApiTokenService.Hash(secret), row.SecretHash);
        Assert.DoesNotContain(secret, row.SecretHash + row.Prefix + row.Name, StringComparison.Ordinal);
        Assert.StartsWith(row.Prefix, secret, StringComparison.Ordinal);
    }
}

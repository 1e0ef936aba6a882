using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

public sealed class HostTests(StudioAppFixture app) : IClassFixture<StudioAppFixture>
{
    [Fact]
    public async Task Health_reports_database_status_to_anonymous_callers()
    {
        using var client = app.Factory.CreateBrowserlikeClient();
        var response = await client.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("Healthy", json.RootElement.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Responses_carry_the_security_headers()
    {
        using var client = app.Factory.CreateBrowserlikeClient();
        var response = await client.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Matches("script-src 'self' 'nonce-[0-9a-f]{32}';", csp);
        Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        // The import map, the page's one inline script, carries this response's nonce.
        var nonce = System.Text.RegularExpressions.Regex.Match(csp, "'nonce-([^']+)'").Groups[1].Value;
        Assert.Contains($"<script type=\"importmap\" nonce=\"{nonce}\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("strict-origin-when-cross-origin", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("SAMEORIGIN", response.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task Database_lives_under_the_storage_root_in_wal_mode_with_full_synchronous_and_a_busy_timeout()
    {
        _ = app.Factory.Server;
        Assert.True(File.Exists(Path.Combine(app.Factory.StorageRoot, StorageOptions.DatabaseFileName)));
        await using var db = await app.Factory.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();
        Assert.Equal("wal", await Pragma(db, "journal_mode"));
        Assert.Equal("2", await Pragma(db, "synchronous")); // 2 = FULL
        Assert.Equal("5000", await Pragma(db, "busy_timeout"));
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task Unknown_pages_answer_404_with_a_friendly_page()
    {
        await app.Factory.CreateUserAsync("lost@example.test");
        using var client = app.Factory.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(client, "lost@example.test", TestAccounts.Password);
        var response = await client.GetAsync(new Uri("/no-such-page", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("There is nothing here", html, StringComparison.Ordinal);
        // The page is re-executed for its status code: it still carries the one nonce the header names.
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        var nonce = System.Text.RegularExpressions.Regex.Match(csp, "'nonce-([^']+)'").Groups[1].Value;
        Assert.Contains($"nonce=\"{nonce}\"", html, StringComparison.Ordinal);
    }

    private static async Task<string> Pragma(AppDbContext db, string name)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"PRAGMA {name};";
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }
}

public sealed class ConfigurationValidationTests
{
    [Fact]
    public void An_empty_storage_root_stops_the_app_with_a_message_naming_the_key()
    {
        using var factory = new BadStorageFactory();
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var validation = Flatten(error).OfType<OptionsValidationException>().FirstOrDefault();
        Assert.NotNull(validation);
        Assert.Contains("Storage:Root", validation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_generation_device_stops_the_app_with_a_message_naming_the_key()
    {
        using var factory = new BadDeviceFactory();
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var all = string.Join(" | ", Flatten(error).Select(e => e.Message));
        Assert.Contains("Generation:Device", all, StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Flatten(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
        {
            yield return error;
            if (error is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }

    private sealed class BadDeviceFactory : StudioAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Storage:Root"] = StorageRoot, ["Generation:Device"] = "tpu" };
    }

    private sealed class BadStorageFactory : StudioAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Storage:Root"] = "" };
    }
}

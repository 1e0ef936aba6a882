using Microsoft.Extensions.Options;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Email;

/// <summary>Email settings that cannot work stop the app at start, naming the setting to fix.</summary>
public sealed class EmailStartupTests
{
    private static string StartFailure(Dictionary<string, string?> settings)
    {
        using var app = new StudioAppFactory(settings: settings);
        var error = Assert.ThrowsAny<Exception>(() => app.Services);
        var validation = error as OptionsValidationException ?? error.InnerException as OptionsValidationException;
        Assert.NotNull(validation);
        return validation.Message;
    }

    [Fact]
    public void A_server_without_a_public_address_for_the_links_is_refused()
    {
        var message = StartFailure(new() { ["Email:Smtp:Host"] = "127.0.0.1", ["Email:Smtp:From"] = "studio@t2i.test" });

        Assert.Contains("Email:Smtp is set but Network:PublicBaseUrl is not", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_server_without_a_sender_is_refused()
    {
        var message = StartFailure(new() { ["Email:Smtp:Host"] = "127.0.0.1", ["Network:PublicBaseUrl"] = "https://studio.example.com" });

        Assert.Contains("Email:Smtp:From is needed when Email:Smtp:Host is set", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Confirmation_required_without_email_is_refused()
    {
        var message = StartFailure(new() { ["Accounts:RequireConfirmedEmail"] = "true" });

        Assert.Contains("Accounts:RequireConfirmedEmail=true needs email", message, StringComparison.Ordinal);
    }
}

using Microsoft.Extensions.Options;
using MimeKit;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Endpoints;

namespace T2IStudio.Web.Email;

/// <summary>Outgoing email through SMTP (issue 19, part 3).</summary>
public static class EmailRegistration
{
    /// <summary>Binds <see cref="EmailOptions"/> (checked at start) and registers the mail queue, its sender and the messages the app sends.</summary>
    public static IServiceCollection AddStudioEmail(this IServiceCollection services)
    {
        services.AddOptions<EmailOptions>()
            .BindConfiguration(EmailOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailSettingsCheck>();
        services.AddSingleton<StudioMail>();
        services.AddSingleton<TeamInvitationMail>();
        services.AddSingleton<ImageActivityMail>();
        services.AddHostedService<SmtpMailSender>();
        services.AddScoped<AccountMail>();
        services.AddSingleton<IConfigureOptions<Microsoft.AspNetCore.Identity.IdentityOptions>, RequireConfirmedEmailSetup>();
        return services;
    }
}

/// <summary>
/// Email settings that cannot work are refused at start with the setting to fix: a host without a valid sender, email
/// without <c>Network:PublicBaseUrl</c> (its links would have no address), or confirmation required without email.
/// </summary>
internal sealed class EmailSettingsCheck(IOptions<NetworkOptions> network, IOptions<AccountOptions> accounts) : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        var smtp = options.Smtp;
        failures.AddRange(smtp.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(smtp)).Select(r => r.ErrorMessage ?? ""));
        if (smtp.Port is < 1 or > 65535)
        {
            failures.Add("Email:Smtp:Port must be between 1 and 65535.");
        }
        if (options.IsEnabled)
        {
            if (!string.IsNullOrWhiteSpace(smtp.From) && !MailboxAddress.TryParse(smtp.From, out _))
            {
                failures.Add($"Email:Smtp:From '{smtp.From}' is not an address (write e.g. \"T2I Studio <studio@example.com>\").");
            }
            if (network.Value.PublicBase is null)
            {
                failures.Add("Email:Smtp is set but Network:PublicBaseUrl is not: emails link back to the app, so set the address people reach it at (e.g. https://studio.example.com).");
            }
        }
        else if (accounts.Value.RequireConfirmedEmail)
        {
            failures.Add("Accounts:RequireConfirmedEmail=true needs email: set Email:Smtp:Host (and From), or nobody could confirm an address.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

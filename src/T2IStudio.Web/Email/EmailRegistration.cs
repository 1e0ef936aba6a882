namespace T2IStudio.Web.Email;

/// <summary>Outgoing email through SMTP (issue 19, part 3).</summary>
public static class EmailRegistration
{
    /// <summary>Binds <see cref="EmailOptions"/> and registers the mail sender and its templates.</summary>
    public static IServiceCollection AddStudioEmail(this IServiceCollection services)
    {
        services.AddOptions<EmailOptions>()
            .BindConfiguration(EmailOptions.Section);
        return services;
    }
}

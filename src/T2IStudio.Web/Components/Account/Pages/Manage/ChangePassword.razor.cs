namespace T2IStudio.Web.Components.Account.Pages.Manage;

/// <summary>The change-password page.</summary>
public partial class ChangePassword
{
    // Static: the logger is an @inject property, which this generator cannot see in the Razor-generated half.
    [LoggerMessage(Level = LogLevel.Information, Message = "A user changed their password.")]
    private static partial void LogPasswordChanged(ILogger logger);
}

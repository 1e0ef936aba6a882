namespace T2IStudio.Web.Components.Account.Pages;

/// <summary>The sign-in page.</summary>
public partial class Login
{
    // Static: the logger is an @inject property, which this generator cannot see in the Razor-generated half.
    [LoggerMessage(Level = LogLevel.Information, Message = "A user signed in.")]
    private static partial void LogSignedIn(ILogger logger);
}
